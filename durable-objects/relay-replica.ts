/**
 * RelayReplica: the relay's one object. It holds a replica of sealed rows (it
 * cannot read them: see lib/relay-protocol.ts), admits cells that prove they
 * know the relay key (their Ed25519 key is then pinned to their id, as cells
 * pin each other), serves pulls and pushes with the cells' CRDT rule, and tells
 * the cells connected over a hibernating WebSocket that there is news. It
 * never dials a cell and never tells a cell where another one is.
 */
import { DurableObject } from "cloudflare:workers";
import { toBase64Url } from "../lib/encoding";
import { HttpError, errorResponse } from "../lib/errors";
import { json, parseJsonText } from "../lib/http";
import { compareStamp } from "../lib/hlc";
import {
  OFFER_HEADER,
  RELAY_BODY_LIMIT,
  RELAY_PAGE_BYTES,
  RELAY_TARGET,
  RelayPullRequest,
  RelayPushRequest,
  parseOfferHeader,
  type RelayPullResponse,
  type SealedRow,
} from "../lib/relay-protocol";
import { verifyAdmissionProof, verifyRequest, CELL_HEADER, type ReplayGuard } from "./identity/signing";
import { limit as rowLimit, MeteredSql, migrate } from "../lib/sql";
import type { VersionVector } from "../lib/sync-types";

const MIGRATIONS = [
  `CREATE TABLE rows (k TEXT PRIMARY KEY, h TEXT NOT NULL, o TEXT NOT NULL, s INTEGER NOT NULL, d INTEGER NOT NULL, x TEXT NOT NULL);
   CREATE INDEX rows_origin ON rows (o, s);
   CREATE TABLE vv (origin TEXT PRIMARY KEY, seq INTEGER NOT NULL);
   CREATE TABLE pinned (cell_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, pinned_at INTEGER NOT NULL);
   CREATE TABLE nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (key_id, nonce));
   CREATE INDEX nonces_expiry ON nonces (expires);
   CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);`,
  // Figures kept as they change (counting rows for /health read the whole table, and Cloudflare bills
  // rows read); request counts in one row (`tally`), updated once per admitted request; each pin
  // records which relay key admitted it.
  `ALTER TABLE pinned ADD COLUMN key_fp TEXT;
   CREATE TABLE tally (id INTEGER PRIMARY KEY CHECK (id = 1), pulls INTEGER NOT NULL, pushes INTEGER NOT NULL,
     refused INTEGER NOT NULL, rows_read INTEGER NOT NULL, rows_written INTEGER NOT NULL, since INTEGER NOT NULL);
   INSERT INTO tally (id, pulls, pushes, refused, rows_read, rows_written, since)
     SELECT 1, coalesce(sum(CASE name WHEN 'pulls' THEN n END), 0), coalesce(sum(CASE name WHEN 'pushes' THEN n END), 0),
       coalesce(sum(CASE name WHEN 'refused' THEN n END), 0), 0, 0, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM counters;
   DELETE FROM counters WHERE name IN ('pushes', 'pulls', 'refused');
   INSERT OR REPLACE INTO counters (name, n) SELECT 'rows', count(*) FROM rows;
   INSERT OR REPLACE INTO counters (name, n) SELECT 'tombstones', count(*) FROM rows WHERE d = 1;
   INSERT OR REPLACE INTO counters (name, n) SELECT 'cells', count(*) FROM pinned;`,
  // Every request stores its nonce: one row written instead of three (a rowid table's primary key is
  // an index of its own, and so was the expiry index; the sweep now reads the small table instead).
  `CREATE TABLE nonces_new (key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (key_id, nonce)) WITHOUT ROWID;
   INSERT INTO nonces_new (key_id, nonce, expires) SELECT key_id, nonce, expires FROM nonces;
   DROP TABLE nonces;
   ALTER TABLE nonces_new RENAME TO nonces;`,
];

/** Signatures (and admission proofs) older or newer than this are refused; nonces are kept twice as long. */
const MAX_SKEW_SECONDS = 300;
/**
 * Expired nonces are swept by one request in this many, at random: a sweep reads the whole (small)
 * table, and a timer would not survive the object's eviction, which on Cloudflare comes between
 * most idle requests. The table then holds the last ten minutes of requests and a few more.
 */
const NONCE_SWEEP_ONE_IN = 16;
/** The relay key in the environment (a secret when deployed; `npm run relay` derives it). */
export interface RelayEnv {
  AIOS_RELAY_KEY?: string;
}

/** What a signed request asks of the relay: the worker's route table names it, the object serves it. */
export type RelayOp = "pull" | "push";

/**
 * Figures for /health: counts, never content. `cells`, `rows` and `tombstones` are kept in storage
 * as they change. `pushes`, `pulls`, `refused` and the SQLite rows the object read and wrote (as
 * Cloudflare bills them) are counted since `counting_since`, in memory and added to storage with
 * each admitted request (a refused request writes nothing: a refusal is stored with the next
 * admitted request, or lost if the object is evicted before one comes).
 */
export interface RelayFigures {
  cells: number;
  connected: number;
  rows: number;
  tombstones: number;
  pushes: number;
  pulls: number;
  refused: number;
  sql_rows_read: number;
  sql_rows_written: number;
  counting_since: string;
}

interface Tally extends Record<string, SqlStorageValue> {
  pulls: number;
  pushes: number;
  refused: number;
  rows_read: number;
  rows_written: number;
  since: number;
}

/** A fingerprint of the relay key (a hash, never the key): which key admitted a pinned cell. */
export async function relayKeyFingerprint(relayKey: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`aios-relay-key-fingerprint\n${relayKey}`));
  return toBase64Url(new Uint8Array(digest).slice(0, 16));
}

export class RelayReplica extends DurableObject<RelayEnv> {
  /** Every statement goes through it, so /health can say what the relay costs in rows. */
  private readonly db: MeteredSql;
  /** Counts not yet added to the stored tally. */
  private readonly counts = { pushes: 0, pulls: 0, refused: 0 };
  private readonly tallied = { read: 0, written: 0 };
  private fingerprint: { key: string; fp: Promise<string> } | undefined;

  constructor(ctx: DurableObjectState, env: RelayEnv) {
    super(ctx, env);
    // Synchronous, so it is done before any call reaches the object.
    migrate(ctx.storage.sql, MIGRATIONS);
    this.db = new MeteredSql(ctx.storage.sql);
    // Keep-alive pings are answered without waking the object (hibernation API).
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  figures(): RelayFigures {
    const stored: Record<string, number> = {};
    for (const r of this.db.all<{ name: string; n: number }>("SELECT name, n FROM counters")) stored[r.name] = r.n;
    const t = this.db.one<Tally>("SELECT pulls, pushes, refused, rows_read, rows_written, since FROM tally")!;
    return {
      cells: stored.cells ?? 0,
      connected: this.ctx.getWebSockets().length,
      rows: stored.rows ?? 0,
      tombstones: stored.tombstones ?? 0,
      pushes: t.pushes + this.counts.pushes,
      pulls: t.pulls + this.counts.pulls,
      refused: t.refused + this.counts.refused,
      sql_rows_read: t.rows_read + this.db.rowsRead - this.tallied.read,
      sql_rows_written: t.rows_written + this.db.rowsWritten - this.tallied.written,
      counting_since: new Date(t.since).toISOString(),
    };
  }

  /** Adds the counts of this request (and of refusals before it) to the stored tally: one row written. */
  private tally(): void {
    const read = this.db.rowsRead - this.tallied.read;
    const written = this.db.rowsWritten - this.tallied.written + 1; // this update's own row
    this.db.run(
      `UPDATE tally SET pulls = pulls + ?, pushes = pushes + ?, refused = refused + ?,
         rows_read = rows_read + ?, rows_written = rows_written + ? WHERE id = 1`,
      this.counts.pulls,
      this.counts.pushes,
      this.counts.refused,
      read,
      written,
    );
    this.tallied.read = this.db.rowsRead;
    this.tallied.written = this.db.rowsWritten;
    this.counts.pulls = this.counts.pushes = this.counts.refused = 0;
  }

  /**
   * The one call the relay worker makes for a `/relay/pull` or `/relay/push` its route table admits
   * to (`peer` access; the worker made only the checks it can make alone): verifies the request as
   * an admitted cell's, then serves it. One call, because Cloudflare bills every call to an object.
   */
  async serve(request: Request, op: RelayOp): Promise<Response> {
    try {
      const { cell, body } = await this.admit(request);
      try {
        switch (op) {
          case "pull":
            return json(this.pull(parseJsonText(body, RelayPullRequest)));
          case "push":
            return json(this.push(cell, parseJsonText(body, RelayPushRequest)));
        }
      } finally {
        this.tally();
      }
    } catch (e) {
      return refusal(e);
    }
  }

  /** The relay worker's call for `/relay/ws`: the news channel of a cell, verified here like `serve`. */
  override async fetch(request: Request): Promise<Response> {
    try {
      const { cell } = await this.admit(request);
      this.tally();
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        throw new HttpError(426, "expected a WebSocket upgrade");
      }
      for (const old of this.ctx.getWebSockets(cell)) old.close(1000, "replaced by a newer connection");
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1], [cell]);
      return new Response(null, { status: 101, webSocket: pair[0] });
    } catch (e) {
      return refusal(e);
    }
  }

  // ---- admission ---------------------------------------------------------------------

  /** `verify`, counting refusals (in memory: a refused request writes nothing). */
  private async admit(request: Request): Promise<{ cell: string; body: string }> {
    try {
      return await this.verify(request);
    } catch (e) {
      if (e instanceof HttpError && e.status < 500) this.counts.refused++;
      throw e;
    }
  }

  /**
   * A request from an admitted cell: signed (RFC 9421) by the key pinned to its id while the relay
   * key that admitted it is the current one. At first contact, and again after the relay key changed
   * (the owner rotated it: a lost machine's pinned key must stop working), the cell proves with its
   * offer (x-aios-offer, which cells always send) that it knows the current relay key. Refuses
   * stale, replayed, oversized and forged requests before anything is read or changed.
   */
  private async verify(request: Request): Promise<{ cell: string; body: string }> {
    const relayKey = this.env.AIOS_RELAY_KEY;
    if (!relayKey) throw new HttpError(503, "this relay has no AIOS_RELAY_KEY; it admits nobody");
    const fingerprint = await this.keyFingerprint(relayKey);
    const cell = request.headers.get(CELL_HEADER) ?? "";
    const pin = this.pin(cell);
    let key: string;
    if (pin !== undefined && pin.key_fp === fingerprint) key = pin.public_key;
    else {
      const offer = parseOfferHeader(request.headers.get(OFFER_HEADER));
      if (!offer) {
        throw new HttpError(
          401,
          pin === undefined
            ? `unknown cell; a first request must carry ${OFFER_HEADER}`
            : `the relay key changed since this cell was admitted; a request must carry ${OFFER_HEADER} proving the current one`,
        );
      }
      if (pin !== undefined && offer.publicKey !== pin.public_key) throw new HttpError(401, `${cell} is pinned to another key`);
      const proof = await verifyAdmissionProof(relayKey, cell, offer.publicKey, offer.created, offer.proof, {
        maxSkewSeconds: MAX_SKEW_SECONDS,
      });
      if (!proof.ok) throw new HttpError(401, `admission refused: ${proof.reason}`);
      key = offer.publicKey;
    }
    const result = await verifyRequest(
      request,
      async (keyId, cellId) => (keyId === cellId && cellId === cell ? key : undefined),
      {
        seen: this.replayGuard,
        maxSkewSeconds: MAX_SKEW_SECONDS,
        target: RELAY_TARGET,
        maxBodyBytes: RELAY_BODY_LIMIT,
      },
    );
    if (!result.ok) throw new HttpError(result.status, `signature refused: ${result.reason}`);
    if (pin === undefined) this.pinNew(cell, key, fingerprint);
    else if (pin.key_fp !== fingerprint) this.db.run("UPDATE pinned SET key_fp = ? WHERE cell_id = ?", fingerprint, cell);
    return { cell, body: new TextDecoder().decode(result.body) };
  }

  /** Pins a cell's key at first contact; refuses it if another request pinned a different key meanwhile. */
  private pinNew(cell: string, key: string, fingerprint: string): void {
    this.ctx.storage.transactionSync(() => {
      const inserted = this.db.run(
        "INSERT OR IGNORE INTO pinned (cell_id, public_key, pinned_at, key_fp) VALUES (?, ?, ?, ?)",
        cell,
        key,
        Date.now(),
        fingerprint,
      );
      if (inserted) this.add("cells", 1);
    });
    if (this.pin(cell)?.public_key !== key) throw new HttpError(401, `${cell} is pinned to another key`);
  }

  private pin(cellId: string): { public_key: string; key_fp: string | null } | undefined {
    return this.db.one<{ public_key: string; key_fp: string | null }>(
      "SELECT public_key, key_fp FROM pinned WHERE cell_id = ?",
      cellId,
    );
  }

  private keyFingerprint(relayKey: string): Promise<string> {
    if (this.fingerprint?.key !== relayKey) this.fingerprint = { key: relayKey, fp: relayKeyFingerprint(relayKey) };
    return this.fingerprint.fp;
  }

  /** Seen nonces, kept in storage (an evicted object must still refuse a replay); expired ones swept now and then. */
  private readonly replayGuard: ReplayGuard = {
    seen: (keyId, nonce) => {
      const now = Date.now();
      if (Math.random() * NONCE_SWEEP_ONE_IN < 1) this.db.run("DELETE FROM nonces WHERE expires < ?", now);
      const known = this.db.one<{ expires: number }>("SELECT expires FROM nonces WHERE key_id = ? AND nonce = ?", keyId, nonce);
      // Nonces are random: one seen before is a replay, even once expired and not yet swept.
      if (known) return true;
      this.db.run("INSERT INTO nonces (key_id, nonce, expires) VALUES (?, ?, ?)", keyId, nonce, now + MAX_SKEW_SECONDS * 2000);
      return false;
    },
  };

  // ---- news --------------------------------------------------------------------------

  /** Cells only send keep-alive pings (answered without waking us); anything else is ignored. */
  override webSocketMessage(): void {}

  override webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {
      // already closed
    }
  }

  private news(except: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      if (this.ctx.getTags(ws).includes(except)) continue;
      try {
        ws.send("news");
      } catch {
        // a socket closing: the cell polls and reconnects
      }
    }
  }

  // ---- the replica ---------------------------------------------------------------------

  private vector(): VersionVector {
    const vv: VersionVector = {};
    for (const r of this.db.all<{ origin: string; seq: number }>("SELECT origin, seq FROM vv")) vv[r.origin] = r.seq;
    return vv;
  }

  private raise(origin: string, seq: number): void {
    this.db.run(
      "INSERT INTO vv (origin, seq) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > vv.seq",
      origin,
      seq,
    );
  }

  /** The rows the holder of `req.vv` lacks, oldest first per cell, one page (bounded in rows and bytes). */
  pull(req: RelayPullRequest): RelayPullResponse {
    this.counts.pulls++;
    const ours = this.vector();
    const rows: SealedRow[] = [];
    let bytes = 0;
    let more = false;
    for (const origin of Object.keys(ours).sort()) {
      const after = req.vv[origin] ?? 0;
      if (ours[origin]! <= after) continue;
      const room = req.limit - rows.length;
      const batch = this.db.all<SealedRow & Record<string, SqlStorageValue>>(
        `SELECT k, h, o, s, d, x FROM rows WHERE o = ? AND s > ? ORDER BY s LIMIT ${rowLimit(room + 1)}`,
        origin,
        after,
      );
      for (const r of batch) {
        if (rows.length >= req.limit || (rows.length > 0 && bytes + r.x.length > RELAY_PAGE_BYTES)) {
          more = true;
          break;
        }
        rows.push({ k: r.k, h: r.h, o: r.o, s: r.s, d: r.d ? 1 : 0, x: r.x });
        bytes += r.x.length;
      }
      if (more) break;
    }
    return { rows, vv: ours, more };
  }

  /**
   * Merges pushed rows with the cells' rule (the newer stamp wins); tells the other cells when anything
   * changed. The figures (rows, tombstones) change in the same transaction; the vector is raised once
   * per origin, and only where it grows.
   */
  push(from: string, req: RelayPushRequest): { applied: number; vv: VersionVector } {
    this.counts.pushes++;
    const applied = this.ctx.storage.transactionSync(() => {
      let changed = 0;
      let added = 0;
      let tombstones = 0;
      const top = new Map<string, number>();
      const reach = (origin: string, seq: number) => top.set(origin, Math.max(top.get(origin) ?? 0, seq));
      for (const r of req.rows) {
        const cur = this.db.one<{ h: string; o: string; d: number }>("SELECT h, o, d FROM rows WHERE k = ?", r.k);
        if (cur === undefined || compareStamp(r.h, r.o, cur.h, cur.o) > 0) {
          this.db.run(
            `INSERT INTO rows (k, h, o, s, d, x) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (k) DO UPDATE SET h = excluded.h, o = excluded.o, s = excluded.s, d = excluded.d, x = excluded.x`,
            r.k,
            r.h,
            r.o,
            r.s,
            r.d,
            r.x,
          );
          changed++;
          if (cur === undefined) added++;
          tombstones += r.d - (cur?.d ? 1 : 0);
        }
        reach(r.o, r.s);
      }
      // A complete push: we now hold every change the pusher held (see Replication.mergeVector).
      if (req.complete) for (const [origin, seq] of Object.entries(req.vv)) reach(origin, seq);
      for (const [origin, seq] of top) this.raise(origin, seq);
      if (added) this.add("rows", added);
      if (tombstones) this.add("tombstones", tombstones);
      return changed;
    });
    if (applied > 0) this.news(from);
    return { applied, vv: this.vector() };
  }

  /** Adds to a figure kept in storage. */
  private add(name: string, delta: number): void {
    this.db.run("INSERT INTO counters (name, n) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET n = n + excluded.n", name, delta);
  }
}

/** A refusal (a 4xx HttpError) is the answer; anything else stays an error. */
function refusal(e: unknown): Response {
  if (e instanceof HttpError && e.status < 500) return errorResponse(e);
  throw e;
}
