/**
 * What the memory takes (lib/graph-types.ts LIMITS, lib/recall-types.ts
 * RECALL_LIMITS), checked before anything is sent so a command says what is
 * wrong instead of relaying a refusal after its dialogs. The extension does
 * not import lib/ (it is bundled on its own); test/unit/vscode-mcp.test.ts
 * checks these against lib/.
 */
export const MEMORY_LIMITS = {
  /** Characters of one observation (the selection and its "(from …)" line). */
  observation: 8192,
  /** Characters of an entity's name. */
  name: 256,
  /** Characters of an entity's type. */
  type: 128,
  /** Characters of a search_nodes query. */
  searchQuery: 512,
  /** Characters of a recall question. */
  recallQuery: 1000,
} as const;

/** "at most N characters (this has M)" when `text` is longer than `max`. */
export function tooLong(text: string, max: number, what: string): string | undefined {
  return text.length > max ? `${what} may have at most ${max} characters (this has ${text.length})` : undefined;
}
