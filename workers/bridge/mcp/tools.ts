/**
 * An MCP tool of the bridge, declared once: what tools/list shows of it and what a call runs. The
 * pooled SDK servers register these (server.ts), and the fast path for tools/call runs them with
 * the same validation and the same results (fast-call.ts).
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { getParseErrorMessage } from "@modelcontextprotocol/sdk/server/zod-compat.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { CellBinding } from "../../../lib/rpc";

export interface ToolSpec {
  name: string;
  title: string;
  description: string;
  /** The arguments, validated where they enter the stack (the shared schemas, with their limits). */
  input?: z.ZodType;
  output?: z.ZodRawShape;
  annotations: ToolAnnotations;
  /** Runs the call with arguments already parsed by `input`. */
  run(cell: CellBinding | undefined, args: unknown): Promise<CallToolResult>;
}

/**
 * The input of a tool that takes no arguments. Declared rather than left out so that its JSON
 * Schema names its dialect (draft-07) like every other tool's: VS Code checks each tool's schema
 * against the meta-schema it names, and without one it downloads draft-07 from json-schema.org,
 * so offline it dropped these tools ("tools with invalid parameters which will be omitted").
 */
export const NO_ARGUMENTS = z.object({});

export const READ: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
export const WRITE: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
};
export const DESTROY: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: false,
};

export function registerTools(server: McpServer, specs: readonly ToolSpec[], cellOf: () => CellBinding | undefined): void {
  for (const spec of specs) {
    server.registerTool(
      spec.name,
      {
        title: spec.title,
        description: spec.description,
        ...(spec.input ? { inputSchema: spec.input } : {}),
        ...(spec.output ? { outputSchema: spec.output } : {}),
        annotations: spec.annotations,
      },
      (args: unknown) => spec.run(cellOf(), args),
    );
  }
}

/** A tools/call as the SDK's McpServer answers it: invalid arguments are a tool error with the same text. */
export async function callTool(spec: ToolSpec, args: unknown, cell: CellBinding | undefined): Promise<CallToolResult> {
  if (!spec.input) return spec.run(cell, undefined);
  const parsed = await spec.input.safeParseAsync(args ?? {});
  if (!parsed.success) {
    return {
      content: [
        {
          type: "text",
          text: `MCP error -32602: Input validation error: Invalid arguments for tool ${spec.name}: ${getParseErrorMessage(parsed.error)}`,
        },
      ],
      isError: true,
    };
  }
  return spec.run(cell, parsed.data);
}
