/** What a code-assist request may ask for: the bridge's MCP tool and the cell's route accept the same actions. */
export const ACTIONS = ["analyze", "explain", "review", "refactor", "generate", "document", "test"] as const;
export type Action = (typeof ACTIONS)[number];
export const isAction = (x: unknown): x is Action => typeof x === "string" && (ACTIONS as readonly string[]).includes(x);
