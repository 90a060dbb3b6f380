/** The bridge's way to its cell: typed calls over the service binding, refusals and outages as values. */
import { HttpError } from "../../lib/errors";
import { tryRpc, type Answer, type CellBinding } from "../../lib/rpc";

/** Code assistance may wait for a model: give the cell that long before calling it unreachable. */
export const CELL_TIMEOUT_MS = 65_000;

export async function askCell<T>(
  cell: CellBinding | undefined,
  call: (cell: CellBinding) => Promise<Answer<T>>,
  timeoutMs = CELL_TIMEOUT_MS,
): Promise<Answer<T>> {
  if (!cell) return { ok: false, status: 503, error: "the bridge has no cell binding" };
  const answer = await tryRpc(() => call(cell), timeoutMs);
  return answer ?? { ok: false, status: 503, error: "the cell does not answer; nothing was done and no suggestions were made" };
}

/** The value of an answer, or the refusal as the HttpError REST answers with. */
export function valueOf<T>(answer: Answer<T>): T {
  if (!answer.ok) throw new HttpError(answer.status, answer.error);
  return answer.value;
}
