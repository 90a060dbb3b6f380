/**
 * POST /code-assist: the built-in analyser always runs; with AIOS_MODEL_URL
 * the model gets its findings and the most relevant shared memories. The
 * answer says which layer produced what, and a model failure falls back to
 * the built-in result, clearly labelled.
 */
import * as z from "zod";
import { analyze } from "../../lib/analysis";
import type { AppRequest } from "../../lib/app";
import { HttpError } from "../../lib/errors";
import { NamespaceSchema } from "../../lib/graph-types";
import { json, readJson } from "../../lib/http";
import { ACTIONS, buildPrompt, chat, isAction, type Memory } from "../../lib/model";
import { RECALL_LIMITS } from "../../lib/recall-types";
import { vars } from "../../lib/vars";
import { state, type CellEnv } from "./env";
import { guard } from "./state-routes";

const CODE_LIMIT = 1024 * 1024;

const CodeAssistSchema = z.object({
  code: z.string({ error: "code must be a string" }).max(CODE_LIMIT, `code is longer than ${CODE_LIMIT} characters`),
  action: z.string().default("analyze"),
  language: z.string().max(32).optional(),
  file: z.string().max(4096).optional(),
  context: z.union([z.string().max(8192), z.record(z.string(), z.unknown())]).optional(),
  namespace: NamespaceSchema,
});

/**
 * The shared memories most related to this code, by recall (meaning and words, fused): the query is
 * the file's name, the names of its outline and the caller's context. Without an embedder recall
 * answers from the word index alone.
 */
async function relatedMemories(env: CellEnv, namespace: string, terms: string[], context: string | undefined): Promise<Memory[]> {
  const query = [...terms.slice(0, 12), context ?? ""].join(" ").trim().slice(0, RECALL_LIMITS.query);
  if (!query) return [];
  const answer = await state(env).recall({ query, namespace, limit: 10, mode: "hybrid" });
  return answer.results.map((r) => ({ name: r.name, entityType: r.entityType, observations: r.observations }));
}

function searchTerms(file: string | undefined, names: string[]): string[] {
  const base = file
    ?.split(/[\\/]/)
    .pop()
    ?.replace(/\.[^.]+$/, "");
  return [...new Set([...(base && base.length >= 3 ? [base] : []), ...names.filter((n) => n.length >= 3)])];
}

export async function codeAssist(request: AppRequest, env: CellEnv): Promise<Response> {
  guard(request, env);
  const body = await readJson(request, CodeAssistSchema, CODE_LIMIT + 64 * 1024);
  if (!isAction(body.action)) {
    throw new HttpError(400, `unknown action "${body.action}"; valid actions: ${ACTIONS.join(", ")}`, { valid_actions: ACTIONS });
  }
  const analysis = analyze(body.code, { language: body.language, file: body.file });
  const v = vars(env);
  const base = {
    action: body.action,
    source: "cell",
    cell_id: v.AIOS_CELL_ID,
    language: analysis.language,
    analysis,
    timestamp: new Date().toISOString(),
  };
  if (!v.AIOS_MODEL_URL) {
    return json({
      ...base,
      layer: "builtin",
      model: null,
      note: "no model configured (AIOS_MODEL_URL); the built-in analysis is the whole answer",
    });
  }
  const context = typeof body.context === "string" ? body.context : body.context ? JSON.stringify(body.context) : undefined;
  const memories = await relatedMemories(
    env,
    body.namespace,
    searchTerms(
      body.file,
      analysis.outline.map((o) => o.name),
    ),
    context,
  );
  const messages = buildPrompt(body.action, body.code, analysis, memories, {
    language: analysis.language.language,
    file: body.file,
    context,
  });
  const result = await chat(
    { url: v.AIOS_MODEL_URL, model: v.AIOS_MODEL, apiKey: v.AIOS_MODEL_API_KEY, timeoutMs: v.AIOS_MODEL_TIMEOUT_MS },
    messages,
  );
  const memories_used = memories.map((m) => m.name);
  if (!result.ok) {
    return json({
      ...base,
      layer: "builtin",
      fallback: true,
      model: null,
      model_error: {
        kind: result.kind,
        message: result.message,
        status: result.status ?? null,
        retry_after: result.retry_after ?? null,
      },
      memories_used,
      note: "the model failed; the built-in analysis below is the answer",
    });
  }
  return json({
    ...base,
    layer: "model+builtin",
    model: { content: result.content, model: result.model, usage: result.usage ?? null, ms: result.ms },
    memories_used,
  });
}
