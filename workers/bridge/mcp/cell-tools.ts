/** The cell's own tools: code assistance, peers, consciousness, messages and context. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CodeAssistSchema } from "../../../lib/code-assist-types";
import type { Answer, CellBinding } from "../../../lib/rpc";
import { ContextSchema, MessageQuerySchema, MessageSchema, type MessageInput } from "../../../lib/state-types";
import { askCell } from "../cell";
import { errorResult, jsonResult } from "./results";

const read = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const write = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };

export function registerCellTools(server: McpServer, cellOf: () => CellBinding | undefined): void {
  const run = async <T extends object>(call: (cell: CellBinding) => Promise<Answer<T>>) => {
    const answer = await askCell(cellOf(), call);
    return answer.ok ? jsonResult(answer.value as Record<string, unknown>) : errorResult(answer.error);
  };

  server.registerTool(
    "code_assist",
    {
      title: "Code Assist",
      description:
        "Analyse code with the cell: language, outline, size and complexity per function, TODOs, likely secrets and bug patterns (built-in, always), plus a model's answer using the shared memories when the cell has a model configured. The answer says which layer produced what.",
      inputSchema: CodeAssistSchema,
      annotations: read,
    },
    (args) => run((cell) => cell.codeAssist(args)),
  );
  server.registerTool(
    "list_peers",
    {
      title: "List Peers",
      description: "The other cells (machines) this cell knows, with status, round-trip time and sync state",
      annotations: read,
    },
    () => run((cell) => cell.peers()),
  );
  server.registerTool(
    "get_consciousness",
    {
      title: "Get Consciousness",
      description:
        "This cell's consciousness level in [0, 1], its four primitives and the measured inputs behind them (peers, sync state, recent writes)",
      annotations: read,
    },
    () => run((cell) => cell.consciousness()),
  );
  server.registerTool(
    "send_message",
    {
      title: "Send Message",
      description: "Send a message to the other cells (it is replicated to every machine)",
      inputSchema: MessageSchema,
      annotations: write,
    },
    (args) => run((cell) => cell.sendMessage(args as MessageInput)),
  );
  server.registerTool(
    "read_messages",
    {
      title: "Read Messages",
      description: "The most recent messages between cells, newest first",
      inputSchema: MessageQuerySchema,
      annotations: read,
    },
    (args) => run((cell) => cell.messages(args)),
  );
  server.registerTool(
    "get_context",
    {
      title: "Get Context",
      description:
        "The live editing context of this machine and of every other cell (workspace, file, language, selection, note)",
      annotations: read,
    },
    () => run((cell) => cell.contexts()),
  );
  server.registerTool(
    "set_context",
    {
      title: "Set Context",
      description: "Set this machine's live editing context, so assistants on the other machines know what you are working on",
      inputSchema: ContextSchema,
      annotations: write,
    },
    (args) => run((cell) => cell.setContext(args)),
  );
}
