/** The cell's own tools: code assistance, peers, consciousness, messages and context. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { ACTIONS } from "../../../lib/model";
import type { CellBinding } from "../../../lib/rpc";
import { callCell } from "./cell-client";
import { errorResult, jsonResult } from "./results";

const read = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const write = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };

export function registerCellTools(server: McpServer, cell: CellBinding | undefined): void {
  const run = async (method: string, path: string, body?: unknown) => {
    const r = await callCell(cell, method, path, body);
    return r.ok ? jsonResult(r.body) : errorResult(r.error);
  };

  server.registerTool(
    "code_assist",
    {
      title: "Code Assist",
      description:
        "Analyse code with the cell: language, outline, size and complexity per function, TODOs, likely secrets and bug patterns (built-in, always), plus a model's answer using the shared memories when the cell has a model configured. The answer says which layer produced what.",
      inputSchema: {
        code: z.string().describe("The code to work on"),
        action: z
          .enum(ACTIONS)
          .optional()
          .describe("What to do: analyze (default), explain, review, refactor, generate, document or test"),
        language: z.string().optional().describe("The language, if known (otherwise detected)"),
        file: z.string().optional().describe("The file path, which helps language detection and memory search"),
        context: z.string().optional().describe("Extra context for the model"),
        namespace: z.string().optional().describe("Project namespace whose memories to use"),
      },
      annotations: read,
    },
    (args) => run("POST", "/code-assist", args),
  );
  server.registerTool(
    "list_peers",
    {
      title: "List Peers",
      description: "The other cells (machines) this cell knows, with status, round-trip time and sync state",
      inputSchema: {},
      annotations: read,
    },
    () => run("GET", "/peers"),
  );
  server.registerTool(
    "get_consciousness",
    {
      title: "Get Consciousness",
      description:
        "This cell's consciousness level in [0, 1], its four primitives and the measured inputs behind them (peers, sync state, recent writes)",
      inputSchema: {},
      annotations: read,
    },
    () => run("GET", "/consciousness"),
  );
  server.registerTool(
    "send_message",
    {
      title: "Send Message",
      description: "Send a message to the other cells (it is replicated to every machine)",
      inputSchema: {
        content: z.string().describe("The message"),
        type: z.string().optional().describe("A message type, e.g. note, status, question"),
        to_cell: z.string().optional().describe("The cell it is meant for, if one"),
        priority: z.enum(["low", "normal", "high", "urgent"]).optional(),
      },
      annotations: write,
    },
    (args) => run("POST", "/message", args),
  );
  server.registerTool(
    "read_messages",
    {
      title: "Read Messages",
      description: "The most recent messages between cells, newest first; next_cursor pages to older ones",
      inputSchema: {
        limit: z.number().int().min(1).max(500).optional(),
        from_cell: z.string().optional().describe("Only messages from this cell"),
        before: z.string().max(1024).optional().describe("The next_cursor of a page read before: the messages older than it"),
      },
      annotations: read,
    },
    (args) => {
      const q = new URLSearchParams();
      if (args.limit !== undefined) q.set("limit", String(args.limit));
      if (args.from_cell) q.set("from_cell", args.from_cell);
      if (args.before) q.set("before", args.before);
      return run("GET", `/messages${q.size ? `?${q}` : ""}`);
    },
  );
  server.registerTool(
    "get_context",
    {
      title: "Get Context",
      description:
        "The live editing context of this machine and of every other cell (workspace, file, language, selection, note)",
      inputSchema: {},
      annotations: read,
    },
    () => run("GET", "/context"),
  );
  server.registerTool(
    "set_context",
    {
      title: "Set Context",
      description: "Set this machine's live editing context, so assistants on the other machines know what you are working on",
      inputSchema: {
        workspace: z.string().optional(),
        file: z.string().optional(),
        language: z.string().optional(),
        selection: z.object({ start_line: z.number().int().min(0), end_line: z.number().int().min(0) }).optional(),
        note: z.string().optional(),
      },
      annotations: write,
    },
    (args) => run("PUT", "/context", args),
  );
}
