/**
 * PeerRegistry: the durable list of peer cells this cell knows, with their
 * health status. Discovery is its only writer.
 */
import { DurableObject } from "cloudflare:workers";
import { parsePeerList } from "../lib/address";
import { identityOf, type IdentityStub } from "./identity/intercell";
import { nextProbeAt, onProbeFailure, onProbeSuccess, PROBE_JITTER, shouldRemove, type HealthState } from "../lib/peer-health";
import type { CellHeartbeat, Hello, KnownPeer, PeerInfo, Register } from "../lib/peer-protocol";
import { CELL_SERVICES, tryRpc, type CellBinding, type Peer, type PeerStatus, type PeerSummary } from "../lib/rpc";
import { all, limit, migrate, one } from "../lib/sql";
import { vars } from "../lib/vars";
import type { CellIdentity } from "./cell-identity";
import { discover, healthCheck, heartbeat, hello } from "./peers/network";
import { newScan, runScan, type ScanStart, type ScanState } from "./peers/scan";
import { MIGRATIONS } from "./peers/schema";

export interface PeerRow extends Record<string, SqlStorageValue> {
  cell_id: string;
  ip: string;
  port: number;
  url: string;
  status: PeerStatus;
  first_seen: number;
  last_seen: number;
  consciousness_level: number | null;
  services: string;
  branch: string | null;
  type: string;
  hostname: string | null;
  source: string;
  rtt_ms: number | null;
  discovery_url: string | null;
  failures: number;
  suspect_since: number | null;
  dead_since: number | null;
}

export function toPeer(r: PeerRow): Peer {
  return {
    cell_id: r.cell_id,
    ip: r.ip,
    port: r.port,
    url: r.url,
    status: r.status,
    last_seen: new Date(r.last_seen).toISOString(),
    first_seen: new Date(r.first_seen).toISOString(),
    consciousness_level: r.consciousness_level,
    services: JSON.parse(r.services) as string[],
    branch: r.branch,
    type: r.type,
    hostname: r.hostname,
    source: r.source,
    rtt_ms: r.rtt_ms,
  };
}

export interface RegistryEnv {
  IDENTITY: DurableObjectNamespace<CellIdentity>;
  CELL?: CellBinding;
}

const CANDIDATES_PER_TICK = 16;
const KNOWN_SAMPLE = 16;
const MAX_BACKOFF_MS = 60_000;

export class PeerRegistry extends DurableObject<RegistryEnv> {
  private readonly sql: SqlStorage;
  private scan: ScanState | undefined;
  private ticking = false;
  /** When each peer was last probed, and the jitter of its next wait (in memory: after a restart every peer is probed at once). */
  private readonly lastProbe = new Map<string, number>();
  private readonly jitter = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: RegistryEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql, MIGRATIONS);
      const last = one<{ state: string }>(this.sql, "SELECT state FROM scans ORDER BY id DESC LIMIT 1");
      if (last) this.scan = JSON.parse(last.state) as ScanState;
      // Seeds and the configured scan are (re)queued at every start.
      const v = vars(env);
      for (const seed of parsePeerList(v.AIOS_NETWORK_PEERS, v.AIOS_CELL_PORT)) this.addCandidate(seed.url, "seed");
      if (v.AIOS_DISCOVERY_SCAN && (!this.scan || this.scan.finished_at)) this.beginScan(v.AIOS_DISCOVERY_SCAN);
      if ((await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Date.now() + 50);
    });
  }

  private get identity(): IdentityStub {
    return identityOf(this.env.IDENTITY);
  }

  list(): Peer[] {
    return all<PeerRow>(this.sql, "SELECT * FROM peers ORDER BY cell_id").map(toPeer);
  }

  summary(): PeerSummary {
    const counts = all<{ status: PeerStatus; n: number }>(this.sql, "SELECT status, count(*) AS n FROM peers GROUP BY status");
    const s: PeerSummary = { known: 0, alive: 0, suspect: 0, dead: 0 };
    for (const c of counts) {
      s[c.status] = c.n;
      s.known += c.n;
    }
    return s;
  }

  // ---- inbound -------------------------------------------------------------

  /** A peer admitted by the identity object said hello (or answered ours): it is alive. */
  upsertAlive(info: PeerInfo, source: string, rttMs: number | null): void {
    const now = Date.now();
    const u = new URL(info.cell_url);
    this.sql.exec(
      `INSERT INTO peers (cell_id, ip, port, url, status, first_seen, last_seen, consciousness_level, services, branch, type, hostname,
                          source, rtt_ms, discovery_url, failures, suspect_since, dead_since)
       VALUES (?, ?, ?, ?, 'alive', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL)
       ON CONFLICT (cell_id) DO UPDATE SET ip = excluded.ip, port = excluded.port, url = excluded.url, status = 'alive',
         last_seen = excluded.last_seen, consciousness_level = excluded.consciousness_level, services = excluded.services,
         branch = excluded.branch, type = excluded.type, hostname = excluded.hostname,
         rtt_ms = coalesce(excluded.rtt_ms, peers.rtt_ms), discovery_url = excluded.discovery_url,
         failures = 0, suspect_since = NULL, dead_since = NULL`,
      info.cell_id,
      u.hostname,
      Number(u.port || 80),
      info.cell_url,
      now,
      now,
      info.consciousness_level,
      JSON.stringify(info.services),
      info.branch ?? null,
      info.type,
      info.hostname ?? null,
      source,
      rttMs,
      info.discovery_url,
    );
    this.sql.exec("DELETE FROM candidates WHERE url = ?", info.cell_url);
    this.wake(this.dueAt(info.cell_id, now));
  }

  /** A signed heartbeat from an admitted peer: it is alive; what it knows becomes gossip. */
  onHeartbeat(hb: CellHeartbeat): CellHeartbeat {
    this.upsertAlive(hb.info, this.sourceOf(hb.info.cell_id) ?? "register", null);
    this.learn(hb.known);
    return { info: this.cachedInfo(), known: this.knownPeers() };
  }

  /** Legacy heartbeat (scripts): refreshes a peer registered by hand. */
  legacyHeartbeat(cellId: string, level: number | null | undefined): boolean {
    const found = one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM peers WHERE cell_id = ?", cellId)!.n > 0;
    if (!found) return false;
    this.sql.exec(
      `UPDATE peers SET last_seen = ?, status = 'alive', failures = 0, suspect_since = NULL, dead_since = NULL,
         consciousness_level = coalesce(?, consciousness_level) WHERE cell_id = ?`,
      Date.now(),
      level ?? null,
      cellId,
    );
    return true;
  }

  register(reg: Register): void {
    const url = `http://${reg.ip}:${reg.port}`;
    const discoveryUrl = reg.discovery_port ? `http://${reg.ip}:${reg.discovery_port}` : null;
    const now = Date.now();
    this.sql.exec(
      `INSERT INTO peers (cell_id, ip, port, url, status, first_seen, last_seen, consciousness_level, services, branch, type, hostname,
                          source, rtt_ms, discovery_url, failures)
       VALUES (?, ?, ?, ?, 'alive', ?, ?, ?, ?, ?, ?, ?, 'register', NULL, ?, 0)
       ON CONFLICT (cell_id) DO UPDATE SET ip = excluded.ip, port = excluded.port, url = excluded.url, last_seen = excluded.last_seen,
         consciousness_level = excluded.consciousness_level, services = excluded.services, branch = excluded.branch,
         type = excluded.type, hostname = excluded.hostname, discovery_url = coalesce(excluded.discovery_url, peers.discovery_url)`,
      reg.cell_id,
      reg.ip,
      reg.port,
      url,
      now,
      now,
      reg.consciousness_level ?? null,
      JSON.stringify(reg.services ?? []),
      reg.branch ?? null,
      reg.type ?? "cell",
      reg.hostname ?? null,
      discoveryUrl,
    );
    this.wake(this.dueAt(reg.cell_id, now));
  }

  unregister(cellId: string): boolean {
    const found = one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM peers WHERE cell_id = ?", cellId)!.n > 0;
    this.sql.exec("DELETE FROM peers WHERE cell_id = ?", cellId);
    return found;
  }

  /** Our hello for another cell: our offer, our info and what we know. */
  async myHello(): Promise<Hello> {
    return { offer: await this.identity.offer(), info: await this.refreshInfo(), known: this.knownPeers() };
  }

  learn(known: KnownPeer[]): void {
    const self = vars(this.env).AIOS_CELL_ID;
    for (const k of known) {
      if (k.cell_id === self) continue;
      const exists = one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM peers WHERE cell_id = ?", k.cell_id)!.n > 0;
      if (!exists) this.addCandidate(k.cell_url, "gossip");
    }
  }

  addCandidate(url: string, source: string): void {
    this.sql.exec(
      `INSERT INTO candidates (url, source, attempts, next_attempt, added_at) VALUES (?, ?, 0, ?, ?)
       ON CONFLICT (url) DO UPDATE SET next_attempt = min(candidates.next_attempt, excluded.next_attempt)`,
      url,
      source,
      Date.now(),
      Date.now(),
    );
    this.wake(Date.now());
  }

  // ---- scans ---------------------------------------------------------------

  startScan(ranges: string | undefined): ScanStart {
    const text = ranges ?? vars(this.env).AIOS_DISCOVERY_SCAN;
    if (!text) return { ok: false, error: "no ranges given and AIOS_DISCOVERY_SCAN is not set" };
    if (this.scan && !this.scan.finished_at) return { ok: false, error: "a scan is already running" };
    return this.beginScan(text);
  }

  private beginScan(text: string): ScanStart {
    const started = newScan((this.scan?.id ?? 0) + 1, text);
    if (!started.ok) return started;
    const state = started.state;
    this.scan = state;
    const v = vars(this.env);
    const save = () => this.sql.exec("INSERT OR REPLACE INTO scans (id, state) VALUES (?, ?)", state.id, JSON.stringify(state));
    save();
    const progress = setInterval(save, 500);
    this.ctx.waitUntil(
      runScan(state, v.AIOS_CELL_PORT, v.AIOS_CELL_ID, (url) => this.addCandidate(url, "scan")).finally(() => {
        clearInterval(progress);
        save();
      }),
    );
    return started;
  }

  scanStatus(): ScanState | null {
    return this.scan ?? null;
  }

  // ---- the loop ------------------------------------------------------------

  /**
   * Probes the peers that are due, contacts the candidates that are due, expires the dead, and sets
   * the alarm for the next of these that will be due: an idle registry wakes once per peer per
   * PROBE_INTERVAL_MS (less when peers probe us), and never with nothing to do.
   */
  override async alarm(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await Promise.all([this.probePeers(), this.contactCandidates()]);
      this.expireDead();
    } finally {
      this.ticking = false;
      const next = this.nextDue();
      if (next === undefined) await this.ctx.storage.deleteAlarm();
      else await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 50));
    }
  }

  /** The next time anything is due: a probe, a candidate, the removal of a dead peer. */
  private nextDue(): number | undefined {
    const times: number[] = [];
    for (const p of all<PeerRow>(this.sql, "SELECT * FROM peers")) {
      times.push(this.dueAt(p.cell_id, p.last_seen, p));
      if (p.status === "dead" && p.dead_since !== null) times.push(p.dead_since + removeAfterMs(this.env));
    }
    const c = one<{ t: number | null }>(this.sql, "SELECT min(next_attempt) AS t FROM candidates")!.t;
    if (c !== null) times.push(c);
    return times.length ? Math.min(...times) : undefined;
  }

  private dueAt(cellId: string, lastSeen: number, row?: PeerRow): number {
    const p = row ?? one<PeerRow>(this.sql, "SELECT * FROM peers WHERE cell_id = ?", cellId);
    if (!p) return lastSeen;
    let j = this.jitter.get(cellId);
    if (j === undefined) this.jitter.set(cellId, (j = Math.random() * PROBE_JITTER));
    return nextProbeAt(p, this.lastProbe.get(cellId), j);
  }

  /** Makes sure the alarm fires by `at` (new peers and candidates arrive between alarms). */
  private wake(at: number): void {
    if (this.ticking) return; // the running alarm sets the next one when it ends
    this.ctx.waitUntil(
      (async () => {
        const current = await this.ctx.storage.getAlarm();
        if (current === null || current > at) await this.ctx.storage.setAlarm(Math.max(at, Date.now() + 10));
      })(),
    );
  }

  private async probePeers(): Promise<void> {
    const now = Date.now();
    const peers = all<PeerRow>(this.sql, "SELECT * FROM peers").filter((p) => this.dueAt(p.cell_id, p.last_seen, p) <= now);
    if (peers.length === 0) return;
    const info = await this.refreshInfo();
    const known = this.knownPeers();
    await Promise.all(
      peers.map(async (p) => {
        this.lastProbe.set(p.cell_id, Date.now());
        this.jitter.set(p.cell_id, Math.random() * PROBE_JITTER);
        const admitted = p.discovery_url !== null && (await this.identity.isAdmitted(p.cell_id));
        const result = admitted
          ? await heartbeat(this.identity, { cell_id: p.cell_id, discovery_url: p.discovery_url! }, info, known)
          : await healthCheck(p.url);
        const now = Date.now();
        const current = one<PeerRow>(this.sql, "SELECT * FROM peers WHERE cell_id = ?", p.cell_id);
        if (!current) return;
        if (result.ok) {
          const answer = result.value;
          if ("info" in answer) {
            this.upsertAlive(answer.info, current.source, result.rtt_ms);
            this.learn(answer.known);
          } else {
            const s = onProbeSuccess(current, now);
            this.saveHealth(p.cell_id, s, result.rtt_ms, answer.consciousness_level);
          }
        } else {
          this.saveHealth(p.cell_id, onProbeFailure(current, now), null, undefined);
        }
      }),
    );
  }

  private saveHealth(cellId: string, s: HealthState, rttMs: number | null, level: number | null | undefined): void {
    this.sql.exec(
      `UPDATE peers SET status = ?, failures = ?, suspect_since = ?, dead_since = ?, last_seen = ?,
         rtt_ms = coalesce(?, rtt_ms), consciousness_level = coalesce(?, consciousness_level) WHERE cell_id = ?`,
      s.status,
      s.failures,
      s.suspect_since,
      s.dead_since,
      s.last_seen,
      rttMs,
      level ?? null,
      cellId,
    );
  }

  private expireDead(): void {
    const now = Date.now();
    for (const p of all<PeerRow>(this.sql, "SELECT * FROM peers WHERE status = 'dead'")) {
      if (shouldRemove(p, now, removeAfterMs(this.env))) this.sql.exec("DELETE FROM peers WHERE cell_id = ?", p.cell_id);
    }
  }

  private async contactCandidates(): Promise<void> {
    const now = Date.now();
    const due = all<{ url: string; source: string; attempts: number }>(
      this.sql,
      `SELECT url, source, attempts FROM candidates WHERE next_attempt <= ? ORDER BY next_attempt LIMIT ${limit(CANDIDATES_PER_TICK)}`,
      now,
    );
    if (due.length === 0) return;
    const self = vars(this.env).AIOS_CELL_ID;
    const mine = await this.myHello();
    await Promise.all(
      due.map(async (c) => {
        const fail = (error: string) => {
          const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** c.attempts);
          this.sql.exec(
            "UPDATE candidates SET attempts = attempts + 1, next_attempt = ?, last_error = ? WHERE url = ?",
            Date.now() + delay,
            error,
            c.url,
          );
        };
        const found = await discover(c.url, 1500);
        if (!found) return fail("no cell answers there");
        if (found.cell_id === self) {
          this.sql.exec("DELETE FROM candidates WHERE url = ?", c.url);
          return;
        }
        const discoveryUrl = `${c.url.replace(/:\d+$/, "")}:${found.discovery_port}`;
        const answer = await hello(this.identity, discoveryUrl, found.cell_id, mine);
        if (!answer.ok) return fail(answer.error);
        const accepted = await this.identity.acceptOffer(answer.value.offer);
        if (!accepted.ok) return fail(accepted.reason);
        this.upsertAlive(
          { ...answer.value.info, cell_url: c.url, discovery_url: discoveryUrl },
          this.sourceOf(found.cell_id) ?? c.source,
          answer.rtt_ms,
        );
        this.learn(answer.value.known);
      }),
    );
  }

  // ---- our own description ------------------------------------------------

  private info: PeerInfo | undefined;

  private cachedInfo(): PeerInfo {
    return this.info ?? this.baseInfo(null);
  }

  private baseInfo(level: number | null): PeerInfo {
    const v = vars(this.env);
    const host = v.AIOS_ADVERTISE_HOST;
    return {
      cell_id: v.AIOS_CELL_ID,
      cell_url: `http://${host}:${v.AIOS_CELL_PORT}`,
      discovery_url: `http://${host}:${v.DISCOVERY_PORT}`,
      services: CELL_SERVICES,
      branch: v.AIOS_BRANCH,
      hostname: v.AIOS_HOSTNAME,
      type: "cell",
      consciousness_level: level,
    };
  }

  private async refreshInfo(): Promise<PeerInfo> {
    const cell = this.env.CELL ? await tryRpc(() => this.env.CELL!.info(), 500) : undefined;
    this.info = this.baseInfo(cell?.consciousness_level ?? this.info?.consciousness_level ?? null);
    return this.info;
  }

  /**
   * What we tell a peer we know (gossip): at most KNOWN_SAMPLE alive peers picked at random, so a
   * heartbeat stays the same size whatever the number of cells and membership still spreads.
   */
  private knownPeers(): KnownPeer[] {
    return all<{ cell_id: string; url: string }>(
      this.sql,
      `SELECT cell_id, url FROM peers WHERE status = 'alive' AND discovery_url IS NOT NULL ORDER BY random() LIMIT ${limit(KNOWN_SAMPLE)}`,
    ).map((r) => ({
      cell_id: r.cell_id,
      cell_url: r.url,
    }));
  }

  private sourceOf(cellId: string): string | undefined {
    return one<{ source: string }>(this.sql, "SELECT source FROM peers WHERE cell_id = ?", cellId)?.source;
  }
}

function removeAfterMs(env: object): number {
  return vars(env).AIOS_PEER_REMOVE_AFTER * 1000;
}
