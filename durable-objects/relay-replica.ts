/**
 * RelayReplica: the relay's one object. It holds a replica of sealed rows (it
 * cannot read them: see lib/relay-protocol.ts), admits cells that prove they
 * know the relay key (their Ed25519 key is then pinned to their id, as cells
 * pin each other), serves pulls and pushes with the cells' CRDT rule, and tells
 * the cells connected over a hibernating WebSocket that there is news. It
 * never dials a cell and never tells a cell where another one is.
 */
import { DurableObject } from "cloudflare:workers";
import { HttpError, errorResponse } from "../lib/errors";
import { compareStamp } from "../lib/hlc";
import {
  OFFER_HEADER,
  RELAY_BODY_LIMIT,
  RELAY_PAGE_BYTES,
  RELAY_TARGET,
  parseOfferHeader,
  type RelayPullRequest,
  type RelayPullResponse,
  type RelayPushRequest,
  type SealedRow,
} from "../lib/relay-protocol";
import { verifyAdmissionProof, verifyRequest, CELL_HEADER, type ReplayGuard } from "./identity/signing";
import { all, limit as rowLimit, migrate, one } from "../lib/sql";
import type { VersionVector } from "../lib/sync-types";

const MIGRATIONS = [
  `CREATE TABLE rows (k TEXT PRIMARY KEY, h TEXT NOT NULL, o TEXT NOT NULL, s INTEGER NOT NULL, d INTEGER NOT NULL, x TEXT NOT NULL);
   CREATE INDEX rows_origin ON rows (o, s);
   CREATE TABLE vv (origin TEXT PRIMARY KEY, seq INTEGER NOT NULL);
   CREATE TABLE pinned (cell_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, pinned_at INTEGER NOT NULL);
   CREATE TABLE nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (key_id, nonce));
   CREATE INDEX nonces_expiry ON nonces (expires);
   CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);`,
];

/** Signatures (and admission proofs) older or newer than this are refused; nonces are kept twice as long. */
const MAX_SKEW_SECONDS = 300;
/** The relay key in the environment (a secret when deployed; `npm run relay` derives it). */
export interface RelayEnv {
  AIOS_RELAY_KEY?: string;
}

/** On the relay worker's call to the object's fetch: the cell the worker admitted. */
export const ADMITTED_HEADER = "x-aios-relay-admitted";

/** What `admit` found: the cell and the body it signed, or why it was refused. */
export type Admission = { ok: true; cell: string; body: string } | { ok: false; status: number; error: string };

/** Figures for /health: counts, never content. */
export interface RelayFigures {
  cells: number;
  connected: number;
  rows: number;
  tombstones: number;
  pushes: number;
  pulls: number;
  refused: number;
}

export class RelayReplica extends DurableObject<RelayEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: RelayEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql, MIGRATIONS);
    });
    // Keep-alive pings are answered without waking the object (hibernation API).
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  figures(): RelayFigures {
    const n = (sql: string) => one<{ n: number }>(this.sql, sql)!.n;
    const counter = (name: string) => one<{ n: number }>(this.sql, "SELECT n FROM counters WHERE name = ?", name)?.n ?? 0;
    return {
      cells: n("SELECT count(*) AS n FROM pinned"),
      connected: this.ctx.getWebSockets().length,
      rows: n("SELECT count(*) AS n FROM rows"),
      tombstones: n("SELECT count(*) AS n FROM rows WHERE d = 1"),
      pushes: counter("pushes"),
      pulls: counter("pulls"),
      refused: counter("refused"),
    };
  }

  /**
   * The relay worker's check of a `/relay/*` request (its route table's `peer` access): admitted, the
   * cell and the body it signed; refused, the status and why (counted in the figures).
   */
  async admit(request: Request): Promise<Admission> {
    try {
      return { ok: true, ...(await this.verify(request)) };
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      if (e.status < 500) this.bump("refused");
      return { ok: false, status: e.status, error: e.message };
    }
  }

  /** Only the relay worker calls this (no socket reaches an object): the news channel of a cell it admitted. */
  override fetch(request: Request): Response {
    const cell = request.headers.get(ADMITTED_HEADER);
    if (!cell) return errorResponse(new HttpError(400, `${ADMITTED_HEADER} is missing`));
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(new HttpError(426, "expected a WebSocket upgrade"));
    }
    for (const old of this.ctx.getWebSockets(cell)) old.close(1000, "replaced by a newer connection");
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], [cell]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  // ---- admission ---------------------------------------------------------------------

  /**
   * A request from an admitted cell: signed (RFC 9421) by the key pinned to its id, or, at first
   * contact, by a key it proves (x-aios-offer) it may pin because it knows the relay key. Refuses
   * stale, replayed, oversized and forged requests before anything is read or changed.
   */
  private async verify(request: Request): Promise<{ cell: string; body: string }> {
    const relayKey = this.env.AIOS_RELAY_KEY;
    if (!relayKey) throw new HttpError(503, "this relay has no AIOS_RELAY_KEY; it admits nobody");
    const cell = request.headers.get(CELL_HEADER) ?? "";
    const pinned = this.pinnedKey(cell);
    let key = pinned;
    if (key === undefined) {
      const offer = parseOfferHeader(request.headers.get(OFFER_HEADER));
      if (!offer) throw new HttpError(401, `unknown cell; a first request must carry ${OFFER_HEADER}`);
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
    if (pinned === undefined)
      this.sql.exec("INSERT OR IGNORE INTO pinned (cell_id, public_key, pinned_at) VALUES (?, ?, ?)", cell, key, Date.now());
    return { cell, body: new TextDecoder().decode(result.body) };
  }

  private pinnedKey(cellId: string): string | undefined {
    return one<{ public_key: string }>(this.sql, "SELECT public_key FROM pinned WHERE cell_id = ?", cellId)?.public_key;
  }

  private readonly replayGuard: ReplayGuard = {
    seen: (keyId, nonce) => {
      const now = Date.now();
      this.sql.exec("DELETE FROM nonces WHERE expires < ?", now);
      const known = one<{ n: number }>(
        this.sql,
        "SELECT count(*) AS n FROM nonces WHERE key_id = ? AND nonce = ?",
        keyId,
        nonce,
      )!.n;
      if (known) return true;
      this.sql.exec("INSERT INTO nonces (key_id, nonce, expires) VALUES (?, ?, ?)", keyId, nonce, now + MAX_SKEW_SECONDS * 2000);
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
    for (const r of all<{ origin: string; seq: number }>(this.sql, "SELECT origin, seq FROM vv")) vv[r.origin] = r.seq;
    return vv;
  }

  private raise(origin: string, seq: number): void {
    this.sql.exec(
      "INSERT INTO vv (origin, seq) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET seq = max(vv.seq, excluded.seq)",
      origin,
      seq,
    );
  }

  /** The rows the holder of `req.vv` lacks, oldest first per cell, one page (bounded in rows and bytes). */
  pull(req: RelayPullRequest): RelayPullResponse {
    this.bump("pulls");
    const ours = this.vector();
    const rows: SealedRow[] = [];
    let bytes = 0;
    let more = false;
    for (const origin of Object.keys(ours).sort()) {
      const after = req.vv[origin] ?? 0;
      if (ours[origin]! <= after) continue;
      const room = req.limit - rows.length;
      const batch = all<SealedRow & Record<string, SqlStorageValue>>(
        this.sql,
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

  /** Merges pushed rows with the cells' rule (the newer stamp wins); tells the other cells when anything changed. */
  push(from: string, req: RelayPushRequest): { applied: number; vv: VersionVector } {
    this.bump("pushes");
    const applied = this.ctx.storage.transactionSync(() => {
      let changed = 0;
      for (const r of req.rows) {
        const cur = one<{ h: string; o: string }>(this.sql, "SELECT h, o FROM rows WHERE k = ?", r.k);
        if (cur === undefined || compareStamp(r.h, r.o, cur.h, cur.o) > 0) {
          this.sql.exec(
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
        }
        this.raise(r.o, r.s);
      }
      // A complete push: we now hold every change the pusher held (see Replication.mergeVector).
      if (req.complete) for (const [origin, seq] of Object.entries(req.vv)) this.raise(origin, seq);
      return changed;
    });
    if (applied > 0) this.news(from);
    return { applied, vv: this.vector() };
  }

  private bump(name: string): void {
    this.sql.exec("INSERT INTO counters (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1", name);
  }
}
