/**
 * What cells and a relay exchange. The relay holds sealed rows: a keyed hash
 * of the row's identity (`k`), its stamp (`h`, `o`, `s`), its tombstone flag
 * (`d`) and the row itself sealed with the content key (`x`), bound to those
 * fields so the relay cannot move a box to another id or stamp. It merges on
 * `k` and the stamps alone, with the cells' rule: the newer (HLC, cell id) wins.
 */
import * as z from "zod/mini";
import { keyedId, open, seal, type ContentKeys } from "./cluster-keys";
import { CONTEXT_DATA_MAX, SyncRow, VersionVector } from "./sync-types";

/** The cell id a relay signs as and is addressed by (`x-aios-target`). */
export const RELAY_TARGET = "relay";
/** The header carrying a cell's admission offer to a relay: "<public key> <created> <proof>". */
export const OFFER_HEADER = "x-aios-offer";
/** Largest push or pull body. */
export const RELAY_BODY_LIMIT = 2 * 1024 * 1024;
/**
 * Largest sealed row: the largest row is a context at its limit, every character 3 bytes of UTF-8
 * (and a quote or backslash, escaped, only 2), plus its other fields; sealed, that gains a nonce and
 * a tag and grows by a third (base64url). One such row always fits a body; a page holds it alone.
 */
export const MAX_SEALED = Math.ceil(((3 * CONTEXT_DATA_MAX + 1024 + 28) * 4) / 3);
/** Rows per page, and the bytes of sealed rows a page stops at. */
export const RELAY_PAGE_ROWS = 500;
export const RELAY_PAGE_BYTES = 1024 * 1024;

const stamp = {
  h: z.string().check(z.regex(/^\d{15}-\d{6}$/, "h must be an HLC stamp")),
  o: z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "o must be a cell id")),
  s: z.number().check(z.int(), z.positive()),
};

export const SealedRow = z.object({
  k: z.string().check(z.regex(/^[A-Za-z0-9_-]{32}$/, "k must be a keyed id")),
  ...stamp,
  d: z.union([z.literal(0), z.literal(1)]),
  x: z.string().check(z.minLength(1), z.maxLength(MAX_SEALED), z.regex(/^[A-Za-z0-9_-]+$/, "x must be base64url")),
});
export type SealedRow = z.infer<typeof SealedRow>;

export const RelayPullRequest = z.object({
  vv: VersionVector,
  limit: z._default(z.number().check(z.int(), z.positive(), z.lte(RELAY_PAGE_ROWS)), RELAY_PAGE_ROWS),
});
export type RelayPullRequest = z.infer<typeof RelayPullRequest>;

export const RelayPullResponse = z.object({
  rows: z.array(SealedRow).check(z.maxLength(RELAY_PAGE_ROWS)),
  vv: VersionVector,
  more: z.boolean(),
});
export type RelayPullResponse = z.infer<typeof RelayPullResponse>;

/** `vv` is the pusher's vector when `complete`: the relay then holds all it held. */
export const RelayPushRequest = z.object({
  rows: z.array(SealedRow).check(z.maxLength(RELAY_PAGE_ROWS)),
  vv: VersionVector,
  complete: z.boolean(),
});
export type RelayPushRequest = z.infer<typeof RelayPushRequest>;

export const RelayPushResponse = z.object({ applied: z.number(), vv: VersionVector });

/** The identity of a row (what two versions of it share), before hashing. */
function identity(r: SyncRow): string {
  switch (r.t) {
    case "e":
      return `e\u0000${r.ns}\u0000${r.n}`;
    case "o":
      return `o\u0000${r.g}`;
    case "r":
      return `r\u0000${r.ns}\u0000${r.f}\u0000${r.to}\u0000${r.y}`;
    case "m":
      return `m\u0000${r.id}`;
    case "c":
      return `c\u0000${r.cell}`;
  }
}

const tombstone = (r: SyncRow): 0 | 1 => ("d" in r ? r.d : 0);
const bound = (k: string, h: string, o: string, s: number, d: number) => `aios-row-v1\n${k}\n${h}\n${o}\n${s}\n${d}`;

export async function sealRow(keys: ContentKeys, row: SyncRow): Promise<SealedRow> {
  const k = await keyedId(keys, identity(row));
  const d = tombstone(row);
  return { k, h: row.h, o: row.o, s: row.s, d, x: await seal(keys, JSON.stringify(row), bound(k, row.h, row.o, row.s, d)) };
}

/**
 * The row inside a sealed one, or undefined if it does not open with our key, is not a valid row,
 * or is not the row its outer fields (id, stamp, tombstone) say it is.
 */
export async function openRow(keys: ContentKeys, sealed: SealedRow): Promise<SyncRow | undefined> {
  const text = await open(keys, sealed.x, bound(sealed.k, sealed.h, sealed.o, sealed.s, sealed.d));
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const row = SyncRow.safeParse(parsed);
  if (!row.success) return undefined;
  const r = row.data;
  if (r.h !== sealed.h || r.o !== sealed.o || r.s !== sealed.s || tombstone(r) !== sealed.d) return undefined;
  if ((await keyedId(keys, identity(r))) !== sealed.k) return undefined;
  return r;
}

/** The offer header's value: our public key, when, and the proof that we know the relay key. */
export function offerHeader(publicKey: string, created: number, proof: string): string {
  return `${publicKey} ${created} ${proof}`;
}

export function parseOfferHeader(value: string | null): { publicKey: string; created: number; proof: string } | undefined {
  const m = /^([A-Za-z0-9_-]{1,256}) (\d{1,12}) ([A-Za-z0-9_-]{1,128})$/.exec(value ?? "");
  return m ? { publicKey: m[1]!, created: Number(m[2]), proof: m[3]! } : undefined;
}
