/**
 * The replication wire format. A row travels whole with its clock stamp
 * (`h`), the cell that wrote it (`o`) and that cell's sequence number (`s`).
 * Keys are short because rows are most of the bytes on the wire.
 */
import * as z from "zod/mini";

const str = (max: number) => z.string().check(z.maxLength(max));
const stamp = {
  h: z.string().check(z.regex(/^\d{15}-\d{6}$/, "h must be an HLC stamp")),
  o: z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "o must be a cell id")),
  s: z.number().check(z.int(), z.positive()),
};
const flag = z.union([z.literal(0), z.literal(1)]);

export const EntityRow = z.object({ t: z.literal("e"), ns: str(64), n: str(256), y: str(128), d: flag, ...stamp });
export const ObservationRow = z.object({
  t: z.literal("o"),
  g: str(160),
  ns: str(64),
  n: str(256),
  c: str(8192),
  a: stamp.h,
  d: flag,
  ...stamp,
});
export const RelationRow = z.object({
  t: z.literal("r"),
  ns: str(64),
  f: str(256),
  to: str(256),
  y: str(128),
  d: flag,
  ...stamp,
});
export const MessageRow = z.object({
  t: z.literal("m"),
  id: str(64),
  fc: str(128),
  tc: z.nullable(str(128)),
  mt: str(64),
  c: str(70_000),
  p: str(16),
  md: str(17_000),
  at: str(40),
  ...stamp,
});
/** The longest context a row carries (its JSON text, in UTF-16 units). */
export const CONTEXT_DATA_MAX = 300_000;
export const ContextRow = z.object({ t: z.literal("c"), cell: str(128), data: str(CONTEXT_DATA_MAX), at: str(40), ...stamp });

export const SyncRow = z.discriminatedUnion("t", [EntityRow, ObservationRow, RelationRow, MessageRow, ContextRow]);
export type SyncRow = z.infer<typeof SyncRow>;

/** Version vector: for each cell, the highest of its sequence numbers this replica holds (every lower one is held or superseded). */
export const VersionVector = z.record(stamp.o, z.number().check(z.int(), z.nonnegative()));
export type VersionVector = z.infer<typeof VersionVector>;

export const MAX_PAGE_ROWS = 1000;

export const PullRequest = z.object({
  vv: VersionVector,
  limit: z._default(z.number().check(z.int(), z.positive(), z.lte(MAX_PAGE_ROWS)), 500),
});
export type PullRequest = z.infer<typeof PullRequest>;

export const PullResponse = z.object({
  rows: z.array(SyncRow).check(z.maxLength(MAX_PAGE_ROWS)),
  vv: VersionVector,
  more: z.boolean(),
});
export type PullResponse = z.infer<typeof PullResponse>;

export const PokeRequest = z.object({ vv: z.optional(VersionVector) });

/** Equal version vectors mean equal replicas: each holds the same changes of every cell. */
export function sameVector(a: VersionVector, b: VersionVector): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false;
  return true;
}

/** Whether `a` holds every change `b` holds: at least `b`'s count for every cell. */
export function covers(a: VersionVector, b: VersionVector): boolean {
  for (const [k, n] of Object.entries(b)) if ((a[k] ?? 0) < n) return false;
  return true;
}

/** The larger count of each cell. */
export function maxVector(a: VersionVector, b: VersionVector): VersionVector {
  const out: VersionVector = { ...a };
  for (const [k, n] of Object.entries(b)) if (n > (out[k] ?? 0)) out[k] = n;
  return out;
}
