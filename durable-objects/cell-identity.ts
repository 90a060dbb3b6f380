/**
 * CellIdentity: this cell's Ed25519 key pair (created on first start, kept in
 * this object's SQLite under the data folder; the private key never leaves
 * it), the public keys pinned to other cells' ids, and the nonces already
 * seen. Every inter-cell request is signed and verified here, by discovery
 * and by the sync loop alike.
 */
import { DurableObject } from "cloudflare:workers";
import {
  admissionProof,
  generateKeyPair,
  signRequest,
  verifyAdmissionProof,
  verifyRequest,
  type ReplayGuard,
} from "./identity/signing";
import { all, migrate, one } from "../lib/sql";
import { vars } from "../lib/vars";

const MIGRATIONS = [
  `CREATE TABLE identity (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE pinned (cell_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, via TEXT NOT NULL, pinned_at INTEGER NOT NULL);
   CREATE TABLE nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (key_id, nonce));
   CREATE INDEX nonces_expiry ON nonces (expires);`,
];

/** Signatures older or newer than this are refused, and nonces are remembered for twice it. */
export const MAX_SKEW_SECONDS = 300;

export interface AdmissionOffer {
  cell_id: string;
  public_key: string;
  created: number;
  proof: string | null;
}

export type Verified = { ok: true; cellId: string; body: Uint8Array } | { ok: false; status: 400 | 401 | 413; reason: string };
export type PinResult = { ok: true } | { ok: false; reason: string };

export class CellIdentity extends DurableObject<object> {
  private readonly sql: SqlStorage;
  private readonly cellId: string;
  private readonly secret: string | undefined;
  private publicKey = "";
  private privateKey = "";

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    const v = vars(env);
    this.cellId = v.AIOS_CELL_ID;
    this.secret = v.AIOS_CLUSTER_SECRET;
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql, MIGRATIONS);
      const stored = new Map(
        all<{ key: string; value: string }>(this.sql, "SELECT key, value FROM identity").map((r) => [r.key, r.value]),
      );
      if (!stored.has("public_key")) {
        const pair = await generateKeyPair();
        this.sql.exec(
          "INSERT INTO identity (key, value) VALUES ('public_key', ?), ('private_key', ?)",
          pair.publicKey,
          pair.privateKey,
        );
        stored.set("public_key", pair.publicKey).set("private_key", pair.privateKey);
      }
      this.publicKey = stored.get("public_key")!;
      this.privateKey = stored.get("private_key")!;
    });
  }

  ownPublicKey(): string {
    return this.publicKey;
  }

  /** A signed copy of the request, addressed to the cell `target`. */
  sign(request: Request, target: string): Promise<Request> {
    return signRequest(request, { keyId: this.cellId, privateKey: this.privateKey, cellId: this.cellId }, { target });
  }

  /** Verifies a request from another cell against the key pinned to its id; refuses replays. */
  async verify(request: Request, maxBodyBytes?: number): Promise<Verified> {
    const result = await verifyRequest(
      request,
      async (keyId, cellId) => (keyId === cellId ? this.pinnedKey(cellId) : undefined),
      {
        seen: this.replayGuard,
        maxSkewSeconds: MAX_SKEW_SECONDS,
        target: this.cellId,
        ...(maxBodyBytes ? { maxBodyBytes } : {}),
      },
    );
    return result.ok ? { ok: true, cellId: result.cellId, body: result.body } : result;
  }

  /**
   * Verifies a first contact: the sender proves it knows the cluster secret for
   * the key it presents, and its request is signed with that key. On success
   * the key is pinned to its id (if the id is pinned to another key: refused).
   */
  async admit(request: Request, offer: AdmissionOffer, maxBodyBytes?: number): Promise<Verified> {
    const pinned = this.pinnedKey(offer.cell_id);
    if (pinned !== undefined && pinned !== offer.public_key) {
      return { ok: false, status: 401, reason: `cell id "${offer.cell_id}" is pinned to another key` };
    }
    if (pinned === undefined) {
      if (!this.secret)
        return {
          ok: false,
          status: 401,
          reason: "this cell has no AIOS_CLUSTER_SECRET; it admits peers only by hand (API token)",
        };
      const proof = await verifyAdmissionProof(this.secret, offer.cell_id, offer.public_key, offer.created, offer.proof ?? "", {
        maxSkewSeconds: MAX_SKEW_SECONDS,
      });
      if (!proof.ok) return { ok: false, status: 401, reason: proof.reason };
    }
    const result = await verifyRequest(
      request,
      async (keyId, cellId) => (keyId === cellId && cellId === offer.cell_id ? offer.public_key : undefined),
      {
        seen: this.replayGuard,
        maxSkewSeconds: MAX_SKEW_SECONDS,
        target: this.cellId,
        ...(maxBodyBytes ? { maxBodyBytes } : {}),
      },
    );
    if (!result.ok) return result;
    if (pinned === undefined) this.pin(offer.cell_id, offer.public_key, "secret");
    return { ok: true, cellId: result.cellId, body: result.body };
  }

  /** Checks another cell's offer (its answer to our hello) and pins its key. */
  async acceptOffer(offer: AdmissionOffer): Promise<PinResult> {
    const pinned = this.pinnedKey(offer.cell_id);
    if (pinned !== undefined)
      return pinned === offer.public_key
        ? { ok: true }
        : { ok: false, reason: `cell id "${offer.cell_id}" is pinned to another key` };
    if (!this.secret) return { ok: false, reason: "this cell has no AIOS_CLUSTER_SECRET" };
    const proof = await verifyAdmissionProof(this.secret, offer.cell_id, offer.public_key, offer.created, offer.proof ?? "", {
      maxSkewSeconds: MAX_SKEW_SECONDS,
    });
    if (!proof.ok) return proof;
    return this.pin(offer.cell_id, offer.public_key, "secret");
  }

  /** Our own offer: id, public key and, with a cluster secret, the proof that we know it. */
  async offer(): Promise<AdmissionOffer> {
    const created = Math.floor(Date.now() / 1000);
    const proof = this.secret ? await admissionProof(this.secret, this.cellId, this.publicKey, created) : null;
    return { cell_id: this.cellId, public_key: this.publicKey, created, proof };
  }

  pinnedKey(cellId: string): string | undefined {
    return one<{ public_key: string }>(this.sql, "SELECT public_key FROM pinned WHERE cell_id = ?", cellId)?.public_key;
  }

  /** Pins a key to a cell id; an id already pinned to another key is refused. */
  pin(cellId: string, publicKey: string, via: "secret" | "token"): PinResult {
    const existing = this.pinnedKey(cellId);
    if (existing !== undefined && existing !== publicKey)
      return { ok: false, reason: `cell id "${cellId}" is pinned to another key` };
    this.sql.exec(
      "INSERT OR IGNORE INTO pinned (cell_id, public_key, via, pinned_at) VALUES (?, ?, ?, ?)",
      cellId,
      publicKey,
      via,
      Date.now(),
    );
    return { ok: true };
  }

  unpin(cellId: string): void {
    this.sql.exec("DELETE FROM pinned WHERE cell_id = ?", cellId);
  }

  isAdmitted(cellId: string): boolean {
    return this.pinnedKey(cellId) !== undefined;
  }

  private readonly replayGuard: ReplayGuard = {
    seen: (keyId, nonce) => {
      const now = Date.now();
      this.sql.exec("DELETE FROM nonces WHERE expires < ?", now);
      const fresh =
        one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM nonces WHERE key_id = ? AND nonce = ?", keyId, nonce)!.n === 0;
      if (fresh)
        this.sql.exec(
          "INSERT INTO nonces (key_id, nonce, expires) VALUES (?, ?, ?)",
          keyId,
          nonce,
          now + MAX_SKEW_SECONDS * 2000,
        );
      return !fresh;
    },
  };
}
