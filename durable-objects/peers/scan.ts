/** Network scan: probes each address's cell port with bounded concurrency and short timeouts. */
import { addresses, parseScanRanges } from "./cidr";
import { discover } from "./network";

export const SCAN_CONCURRENCY = 64;
export const SCAN_TIMEOUT_MS = 700;

export interface ScanState {
  id: number;
  ranges: string;
  started_at: string;
  finished_at: string | null;
  total: number;
  probed: number;
  found: { cell_id: string; url: string }[];
  error: string | null;
}

export type ScanStart = { ok: true; state: ScanState } | { ok: false; error: string };

export function newScan(id: number, ranges: string): ScanStart {
  const parsed = parseScanRanges(ranges);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  return {
    ok: true,
    state: {
      id,
      ranges,
      started_at: new Date().toISOString(),
      finished_at: null,
      total: parsed.total,
      probed: 0,
      found: [],
      error: null,
    },
  };
}

/** Runs a scan to the end, reporting progress through `state` and each cell found through `onFound`. */
export async function runScan(state: ScanState, cellPort: number, selfId: string, onFound: (url: string) => void): Promise<void> {
  const parsed = parseScanRanges(state.ranges);
  if (!parsed.ok) return;
  const iterator = addresses(parsed.ranges)[Symbol.iterator]();
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      const url = `http://${next.value}:${cellPort}`;
      const found = await discover(url, SCAN_TIMEOUT_MS);
      state.probed++;
      if (found && found.cell_id !== selfId) {
        state.found.push({ cell_id: found.cell_id, url });
        onFound(url);
      }
    }
  };
  await Promise.all(Array.from({ length: SCAN_CONCURRENCY }, worker));
  state.finished_at = new Date().toISOString();
}
