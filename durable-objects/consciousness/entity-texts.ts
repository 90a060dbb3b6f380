/**
 * The texts the embedder turns into vectors (embeddings.ts; the recall benchmark uses the same):
 * entities', observations' and messages'.
 * How they are made was measured on the labelled set (bench/recall.ts, docs/recall.md): the name as
 * written (CamelCase split or left out did no better), the type, the observations.
 */
import type { EmbedderSpec } from "../../lib/embed/client";

/** At most this many characters of a text are embedded. */
const TEXTS_CHARS = 1200;

/**
 * The version of what is embedded. Vectors are stored under their embedder's id with this version
 * (vectorsOf), so changing the texts below is a change of model: the backlog re-embeds every row
 * in the background and recall never compares a query with vectors of other texts. Raise it with
 * any change to entityText or observationText.
 */
export const TEXTS_VERSION = 1;

/** The embedder with the id its vectors are stored under: its model's id and the texts' version. */
export function vectorsOf(spec: EmbedderSpec, version = TEXTS_VERSION): EmbedderSpec {
  return spec.kind === "off" ? spec : { ...spec, id: `${spec.id}#texts${version}` };
}

/** What an entity's vector stands for: its name, its type and its first observations. */
export function entityText(name: string, type: string, observations: string[]): string {
  return clip(`${name} (${type}). ${observations.join(". ")}`);
}

/** What an observation's vector stands for: the observation, with its entity's name. */
export function observationText(entity: string, content: string): string {
  return clip(`${entity}: ${content}`);
}

/** The vector index's namespace of messages (message-recall.ts): no graph namespace can be it (they start with a letter or digit). */
export const MESSAGES_NS = "#messages";

/** What a message's vector stands for: its type and its text (a JSON object's text values, or its JSON). */
export function messageText(type: string, content: string): string {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    value = content;
  }
  const strings: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") strings.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return clip(`${type}: ${strings.length ? strings.join(". ") : JSON.stringify(value)}`);
}

function clip(text: string): string {
  return text.length > TEXTS_CHARS ? text.slice(0, TEXTS_CHARS) : text;
}
