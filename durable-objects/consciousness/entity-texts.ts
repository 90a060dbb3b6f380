/** The texts the embedder turns into vectors (embeddings.ts; the recall benchmark uses the same). */

/** At most this many characters of a text are embedded. */
const TEXT_CHARS = 1200;

/** What an entity's vector stands for: its name, its type and its first observations. */
export function entityText(name: string, type: string, observations: string[]): string {
  return clip(`${name} (${type}). ${observations.join(". ")}`);
}

/** What an observation's vector stands for: the observation, with its entity's name. */
export function observationText(entity: string, content: string): string {
  return clip(`${entity}: ${content}`);
}

function clip(text: string): string {
  return text.length > TEXT_CHARS ? text.slice(0, TEXT_CHARS) : text;
}
