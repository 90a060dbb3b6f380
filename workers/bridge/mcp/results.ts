/** Tool results as MCP wants them: JSON text plus structured content, or an error the model can read. */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export function jsonResult(structured: Record<string, unknown>, text?: string): CallToolResult {
  return { content: [{ type: "text", text: text ?? JSON.stringify(structured, null, 2) }], structuredContent: structured };
}

export function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }] };
}
