/** The cell's own tools: code assistance, peers, consciousness, messages and context. */
import { CodeAssistSchema, type CodeAssistInput } from "../../../lib/code-assist";
import { MESSAGE_RECALL_LIMITS, MessageRecallSchema, type MessageRecallRequest } from "../../../lib/message-recall-types";
import type { Answer, CellBinding } from "../../../lib/rpc";
import {
  ContextSchema,
  MessageQuerySchema,
  MessageSchema,
  type ContextInput,
  type MessageInput,
  type MessageQuery,
} from "../../../lib/state-types";
import { askCell } from "../cell";
import { errorResult, jsonResult } from "./results";
import { NO_ARGUMENTS, READ, WRITE, type ToolSpec } from "./tools";

/** Runs a typed call to the cell; its value is the tool's JSON result. */
async function run<T extends object>(cell: CellBinding | undefined, call: (cell: CellBinding) => Promise<Answer<T>>) {
  const answer = await askCell(cell, call);
  return answer.ok ? jsonResult(answer.value as Record<string, unknown>) : errorResult(answer.error);
}

export const CELL_TOOLS: ToolSpec[] = [
  {
    name: "code_assist",
    title: "Code Assist",
    description:
      "Analyse code with the cell: language, outline, size and complexity per function, TODOs, likely secrets and bug patterns (built-in, always), plus a model's answer using the shared memories when the cell has a model configured. The answer says which layer produced what.",
    input: CodeAssistSchema,
    annotations: READ,
    run: (cell, args) => run(cell, (c) => c.codeAssist(args as CodeAssistInput)),
  },
  {
    name: "list_peers",
    title: "List Peers",
    description: "The other cells (machines) this cell knows, with status, round-trip time and sync state",
    input: NO_ARGUMENTS,
    annotations: READ,
    run: (cell) => run(cell, (c) => c.peers()),
  },
  {
    name: "get_consciousness",
    title: "Get Consciousness",
    description:
      "This cell's consciousness level in [0, 1], its four primitives and the measured inputs behind them (peers, sync state, recent writes)",
    input: NO_ARGUMENTS,
    annotations: READ,
    run: (cell) => run(cell, (c) => c.consciousness()),
  },
  {
    name: "send_message",
    title: "Send Message",
    description: "Send a message to the other cells (it is replicated to every machine)",
    input: MessageSchema,
    annotations: WRITE,
    run: (cell, args) => run(cell, (c) => c.sendMessage(args as MessageInput)),
  },
  {
    name: "read_messages",
    title: "Read Messages",
    description: "The most recent messages between cells, newest first",
    input: MessageQuerySchema,
    annotations: READ,
    run: (cell, args) => run(cell, (c) => c.messages(args as MessageQuery)),
  },
  {
    name: "recall_messages",
    title: "Recall Messages",
    description:
      'Find the messages between cells that are about a question in natural language, e.g. "did the nightly backup fail?": nearest in meaning first, each with its score. ' +
      `At most \`limit\` messages (default ${MESSAGE_RECALL_LIMITS.defaultResults}). Where the stack has no embedder the answer says \`fallback\` and why, and holds the newest messages that contain a word of the question.`,
    input: MessageRecallSchema,
    annotations: READ,
    run: (cell, args) => run(cell, (c) => c.recallMessages(args as MessageRecallRequest)),
  },
  {
    name: "get_context",
    title: "Get Context",
    description: "The live editing context of this machine and of every other cell (workspace, file, language, selection, note)",
    input: NO_ARGUMENTS,
    annotations: READ,
    run: (cell) => run(cell, (c) => c.contexts()),
  },
  {
    name: "set_context",
    title: "Set Context",
    description: "Set this machine's live editing context, so assistants on the other machines know what you are working on",
    input: ContextSchema,
    annotations: WRITE,
    run: (cell, args) => run(cell, (c) => c.setContext(args as ContextInput)),
  },
];
