/** The MCP tool `recall`: the shared memory searched by meaning and words (POST /memory/recall on the cell). */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { RECALL_LIMITS, RECALL_MODES } from "../../../lib/recall-types";
import type { CellBinding } from "../../../lib/rpc";
import { callCell } from "./cell-client";
import { errorResult, jsonResult } from "./results";

export function registerRecallTool(server: McpServer, cell: CellBinding | undefined): void {
  server.registerTool(
    "recall",
    {
      title: "Recall",
      description:
        'Find what the shared memory knows about a question asked in natural language, e.g. "which machine signs the macOS builds?" or "why did we drop the old queue?". ' +
        "Use this first for any question in your own words: it matches by meaning (an embedding model) and by words, so the memory does not need to contain your exact phrasing. " +
        "search_nodes only finds entities containing the query as an exact substring: use it for a known name. " +
        `Answers at most \`limit\` entities (default ${RECALL_LIMITS.defaultResults}), each with its score, its best-matching observations and the signals that found it; the answer is capped in size and says when it was cut.`,
      inputSchema: {
        query: z.string().describe("The question or description, in natural language"),
        namespace: z.string().optional().describe("Project namespace to search (default: default)"),
        limit: z
          .number()
          .int()
          .optional()
          .describe(`How many entities at most (1-${RECALL_LIMITS.results}, default ${RECALL_LIMITS.defaultResults})`),
        mode: z
          .enum(RECALL_MODES)
          .optional()
          .describe("hybrid (default: meaning and words fused), semantic (meaning only) or keyword (words only)"),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const r = await callCell(cell, "POST", "/memory/recall", args);
      return r.ok ? jsonResult(r.body) : errorResult(r.error);
    },
  );
}
