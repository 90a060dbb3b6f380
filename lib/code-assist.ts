/** The wire shape of a code-assistance request, shared by the cell's REST API and the bridge (REST and MCP). */
import * as z from "zod";
import { NamespaceSchema } from "./graph-types";

export const ACTIONS = ["analyze", "explain", "review", "refactor", "generate", "document", "test"] as const;
export type Action = (typeof ACTIONS)[number];
export const isAction = (x: unknown): x is Action => typeof x === "string" && (ACTIONS as readonly string[]).includes(x);

export const CODE_LIMIT = 1024 * 1024;
/** A request body may carry the code plus this much of everything else. */
export const CODE_ASSIST_BODY_LIMIT = CODE_LIMIT + 64 * 1024;

export const CodeAssistSchema = z.object({
  code: z
    .string({ error: "code must be a string" })
    .max(CODE_LIMIT, `code is longer than ${CODE_LIMIT} characters`)
    .describe("The code to work on"),
  action: z
    .enum(ACTIONS, { error: (issue) => `unknown action ${JSON.stringify(issue.input)}; valid actions: ${ACTIONS.join(", ")}` })
    .default("analyze")
    .describe("What to do: analyze (default), explain, review, refactor, generate, document or test"),
  language: z.string().max(32).optional().describe("The language, if known (otherwise detected)"),
  file: z.string().max(4096).optional().describe("The file path, which helps language detection and memory search"),
  context: z
    .union([z.string().max(8192), z.record(z.string(), z.unknown())])
    .optional()
    .describe("Extra context for the model"),
  namespace: NamespaceSchema.describe("Project namespace whose memories to use"),
});
export type CodeAssistInput = z.infer<typeof CodeAssistSchema>;
