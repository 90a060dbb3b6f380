/** The MCP tool `recall`: the shared memory searched by meaning and words (the cell's typed `recall`). */
import { RECALL_LIMITS, RecallSchema, type RecallRequest } from "../../../lib/recall-types";
import { askCell } from "../cell";
import { errorResult, jsonResult } from "./results";
import { READ, type ToolSpec } from "./tools";

export const RECALL_TOOL: ToolSpec = {
  name: "recall",
  title: "Recall",
  description:
    'Find what the shared memory knows about a question asked in natural language, e.g. "which machine signs the macOS builds?" or "why did we drop the old queue?". ' +
    "Use this first for any question in your own words: it matches by meaning (an embedding model) and by words, so the memory does not need to contain your exact phrasing. " +
    "search_nodes only finds entities containing the query as an exact substring: use it for a known name. " +
    `Answers at most \`limit\` entities (default ${RECALL_LIMITS.defaultResults}), each with its score, its best-matching observations and the signals that found it; the answer is capped in size and says when it was cut.`,
  input: RecallSchema,
  annotations: READ,
  async run(cell, args) {
    const answer = await askCell(cell, (c) => c.recall(args as RecallRequest));
    return answer.ok ? jsonResult(answer.value as unknown as Record<string, unknown>) : errorResult(answer.error);
  },
};
