/**
 * POST /code-assist: the built-in analyser always runs; with AIOS_MODEL_URL
 * the model gets its findings and the most relevant shared memories. The
 * answer says which layer produced what, and a model failure falls back to
 * the built-in result, clearly labelled.
 */
import type { AppRequest } from "../../lib/app";
import { CODE_ASSIST_BODY_LIMIT, CodeAssistSchema, type CodeAssistInput } from "../../lib/code-assist";
import { json, readJson } from "../../lib/http";
import { RECALL_LIMITS } from "../../lib/recall-types";
import { vars } from "../../lib/vars";
import { analyze } from "./analysis";
import { state, type CellEnv } from "./env";
import { buildPrompt, chat, type Memory } from "./model";

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

/** POST /code-assist over REST. */
export async function codeAssist(request: AppRequest, env: CellEnv): Promise<Response> {
  return json(await assist(env, await readJson(request, CodeAssistSchema, CODE_ASSIST_BODY_LIMIT)));
}

/** The answer to a validated request: the built-in analysis, and the model's when one is configured. */
export async function assist(env: CellEnv, body: CodeAssistInput): Promise<Record<string, unknown>> {
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
    return {
      ...base,
      layer: "builtin",
      model: null,
      note: "no model configured (AIOS_MODEL_URL); the built-in analysis is the whole answer",
    };
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
    return {
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
    };
  }
  return {
    ...base,
    layer: "model+builtin",
    model: { content: result.content, model: result.model, usage: result.usage ?? null, ms: result.ms },
    memories_used,
  };
}
