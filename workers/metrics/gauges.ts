/**
 * The live gauges of a scrape, rendered from the cell's metricsSnapshot() and
 * discovery's peer list (the counters and histograms come from MetricsStore).
 *
 * Cardinality is bounded: the only per-peer label values are cell ids that
 * pass the same rule discovery and sync enforce on the wire, and at most
 * MAX_PEERS peers get per-peer series, whatever the registry holds.
 */
import type { Exposition } from "../../lib/prom";
import type { CellMetrics, PeerGauge, PeerStatus } from "../../lib/rpc";

/** A cell id: what discovery admits and sync records. Anything else never becomes a label value. */
export const CELL_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Per-peer series are limited to this many peers (by cell id order), so a scrape stays small. */
export const MAX_PEERS = 256;

const STATUSES: readonly PeerStatus[] = ["alive", "suspect", "dead"];
const PRIMITIVES = ["awareness", "coherence", "adaptation", "momentum"] as const;

/** Every gauge family with its type and help, declared on each scrape so HELP/TYPE are always listed. */
const FAMILIES = {
  aios_consciousness_level:
    "Consciousness level in [0, 1], computed at scrape time from measured inputs (README: Consciousness level).",
  aios_consciousness_primitive:
    "The four inputs of the consciousness level, each in [0, 1]: awareness, coherence, adaptation, momentum.",
  aios_graph_entities: "Entities in this cell's knowledge graph, all namespaces (own and replicated).",
  aios_graph_observations: "Observations on the entities of this cell's knowledge graph, all namespaces.",
  aios_graph_relations: "Relations between entities in this cell's knowledge graph, all namespaces.",
  aios_messages: "Inter-cell messages this cell holds (own and replicated).",
  aios_peers: "Peers this cell's discovery knows, by status (alive, suspect, dead).",
  aios_peer_up: "1 when this cell's discovery sees the peer alive, else 0 (suspect or dead).",
  aios_peer_rtt_seconds: "Round-trip time of discovery's last successful health probe of the peer.",
  aios_embed_pending: "Rows waiting for their vector (recall by meaning), all namespaces.",
  aios_embed_vectors: "Rows with a vector of the current embedding model, by model.",
  aios_embed_rate: "Rows embedded per second over the last minute.",
  aios_sync_lag_seconds: "Seconds since the last successful sync round with the peer (no sample until the first one).",
  aios_sync_in_sync: "1 when the peer's state matched this cell's at the last sync exchange, else 0.",
} as const;

export type GaugeFamily = keyof typeof FAMILIES;
export const GAUGE_FAMILIES = Object.keys(FAMILIES) as GaugeFamily[];

/** The peers that may appear as label values: valid cell ids, de-duplicated, at most MAX_PEERS. */
export function labelPeers<T>(list: T[], id: (p: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const p of [...list].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0))) {
    const v = id(p);
    if (!CELL_ID.test(v) || seen.has(v)) continue;
    seen.add(v);
    out.push(p);
    if (out.length === MAX_PEERS) break;
  }
  return out;
}

/**
 * Adds the gauges to `e`. `cell` or `peers` is undefined when that worker did
 * not answer the scrape: its families are then listed without samples.
 */
export function renderGauges(e: Exposition, cellId: string, cell: CellMetrics | undefined, peers: PeerGauge[] | undefined): void {
  for (const name of GAUGE_FAMILIES) e.declare(name, "gauge", FAMILIES[name]);
  const self = { cell_id: cellId };
  const gauge = (name: GaugeFamily, labels: Record<string, string>, value: number) =>
    e.gauge(name, FAMILIES[name], labels, value);

  if (cell) {
    gauge("aios_consciousness_level", self, cell.level);
    for (const primitive of PRIMITIVES) gauge("aios_consciousness_primitive", { ...self, primitive }, cell.primitives[primitive]);
    gauge("aios_graph_entities", self, cell.graph.entities);
    gauge("aios_graph_observations", self, cell.graph.observations);
    gauge("aios_graph_relations", self, cell.graph.relations);
    gauge("aios_messages", self, cell.messages);
    if (cell.embed) {
      gauge("aios_embed_pending", self, cell.embed.pending);
      if (cell.embed.model) gauge("aios_embed_vectors", { ...self, model: cell.embed.model }, cell.embed.done);
      gauge("aios_embed_rate", self, cell.embed.rate_per_second);
    }
  }

  const listed = peers && labelPeers(peers, (p) => p.cell_id);
  if (peers) {
    // Counted over every known peer (no label per peer, so no cap needed).
    for (const status of STATUSES) gauge("aios_peers", { ...self, status }, peers.filter((p) => p.status === status).length);
  }
  for (const p of listed ?? []) {
    const labels = { ...self, peer_id: p.cell_id };
    gauge("aios_peer_up", labels, p.status === "alive" ? 1 : 0);
    if (p.rtt_ms !== null && Number.isFinite(p.rtt_ms)) gauge("aios_peer_rtt_seconds", labels, p.rtt_ms / 1000);
  }

  if (cell) {
    // Only peers discovery still knows (when it answered): a forgotten peer's series end instead of ageing forever.
    const known = listed && new Set(listed.map((p) => p.cell_id));
    const sync = labelPeers(
      cell.sync.filter((s) => !known || known.has(s.peer_id)),
      (s) => s.peer_id,
    );
    for (const s of sync) {
      const labels = { ...self, peer_id: s.peer_id };
      if (s.lag_seconds !== null) gauge("aios_sync_lag_seconds", labels, s.lag_seconds);
      gauge("aios_sync_in_sync", labels, s.in_sync ? 1 : 0);
    }
  }
}
