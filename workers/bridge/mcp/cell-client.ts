/** The MCP tools' way to the local cell: JSON over the trusted service binding, errors as values. */
import { tryRpc, type CellBinding } from "../../../lib/rpc";

export type CellAnswer = { ok: true; body: Record<string, unknown> } | { ok: false; error: string };

export async function callCell(
  cell: CellBinding | undefined,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 65_000,
): Promise<CellAnswer> {
  if (!cell) return { ok: false, error: "the bridge has no cell binding" };
  const request = new Request(`http://cell${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const res = await tryRpc(() => cell.trustedFetch(request), timeoutMs);
  if (!res) return { ok: false, error: "the cell does not answer" };
  const parsed = (await res.json().catch(() => ({ error: `the cell answered ${res.status} without JSON` }))) as Record<
    string,
    unknown
  >;
  if (!res.ok)
    return { ok: false, error: typeof parsed["error"] === "string" ? parsed["error"] : `the cell answered ${res.status}` };
  return { ok: true, body: parsed };
}
