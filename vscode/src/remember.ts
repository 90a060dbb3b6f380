/** Remember Selection: the selected text becomes an observation of an entity, created when it does not exist. */
import type { McpClient } from "./mcp";

export interface RememberInput {
  namespace: string | undefined;
  entity: string;
  /** Used only when the entity has to be created. */
  entityType: string;
  observation: string;
}

/** The observation: the selected text and where it came from. */
export function observationOf(text: string, file: string | undefined, startLine: number, endLine: number): string {
  const body = text.replace(/\s+$/, "").replace(/^\s*\n/, "");
  if (!file) return body;
  const where = startLine === endLine ? `${file}:${startLine}` : `${file}:${startLine}-${endLine}`;
  return `${body}\n(from ${where})`;
}

/** The memory's rule for a namespace (lib/graph-types.ts NamespaceSchema). */
export const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const NAMESPACE_RULE = "1-64 characters of A-Z, a-z, 0-9, '.', '_', '-', starting with a letter or digit";

/**
 * A valid namespace made from a workspace folder's name: accents dropped
 * ("Übungen" -> "Ubungen"), any other character the memory does not take
 * becomes '-', repeats collapse, leading and trailing '.', '_', '-' go, cut to
 * 64 characters; "default" (the memory's own) when nothing is left.
 */
export function namespaceFromFolder(folderName: string): string {
  const ns = folderName
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/([._-])\1+/g, "$1")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64)
    .replace(/[._-]+$/, "");
  return ns || "default";
}

export type NamespaceChoice = { namespace: string | undefined } | { error: string };

/**
 * The namespace of Remember Selection and Recall: the setting when given (it
 * must be valid: it is used as written), else one made from the workspace
 * folder's name, else the memory's default (undefined).
 */
export function namespaceOf(setting: string, folderName: string | undefined): NamespaceChoice {
  const given = setting.trim();
  if (given) {
    if (NAMESPACE_PATTERN.test(given)) return { namespace: given };
    return {
      error: `the setting aios.namespace "${given}" is not a valid namespace (${NAMESPACE_RULE}); try "${namespaceFromFolder(given)}", or leave it empty for the workspace folder's name`,
    };
  }
  return { namespace: folderName === undefined ? undefined : namespaceFromFolder(folderName) };
}

const withNs = (ns: string | undefined, args: Record<string, unknown>) => (ns ? { ...args, namespace: ns } : args);

/** Entity names in the namespace, for the picker. */
export async function entityNames(
  mcp: McpClient,
  namespace: string | undefined,
): Promise<{ name: string; entityType: string }[]> {
  const graph = (await mcp.callTool("read_graph", withNs(namespace, {}))) as {
    entities?: { name: string; entityType: string }[];
  };
  return (graph.entities ?? [])
    .map((e) => ({ name: e.name, entityType: e.entityType }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Adds the observation; creates the entity with it when the entity is not
 * there. create_entities skips names that exist (the reference server's
 * rule), so if another machine created it in between, the observation is
 * added to that one instead of being dropped.
 */
export async function remember(mcp: McpClient, input: RememberInput): Promise<{ created: boolean }> {
  const ns = input.namespace;
  const open = (await mcp.callTool("open_nodes", withNs(ns, { names: [input.entity] }))) as { entities?: { name: string }[] };
  const exists = (open.entities ?? []).some((e) => e.name === input.entity);
  if (!exists) {
    const created = (await mcp.callTool(
      "create_entities",
      withNs(ns, { entities: [{ name: input.entity, entityType: input.entityType, observations: [input.observation] }] }),
    )) as { entities?: { name: string }[] };
    if ((created.entities ?? []).some((e) => e.name === input.entity)) return { created: true };
  }
  await mcp.callTool(
    "add_observations",
    withNs(ns, { observations: [{ entityName: input.entity, contents: [input.observation] }] }),
  );
  return { created: false };
}
