/** The bridge's MCP tools by name, as clients see them (tools/list): what the tests hold it to. */

/** The nine tools of the reference memory server, with its names. */
export const REFERENCE_MEMORY_TOOLS = [
  "create_entities",
  "create_relations",
  "add_observations",
  "delete_entities",
  "delete_observations",
  "delete_relations",
  "read_graph",
  "search_nodes",
  "open_nodes",
] as const;

/** Ours beside them: recall by meaning and the cell's own. */
export const CELL_TOOLS = [
  "recall",
  "code_assist",
  "list_peers",
  "get_consciousness",
  "send_message",
  "read_messages",
  "recall_messages",
  "get_context",
  "set_context",
] as const;

export const ALL_TOOLS: readonly string[] = [...REFERENCE_MEMORY_TOOLS, ...CELL_TOOLS];
