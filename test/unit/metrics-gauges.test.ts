/** The scrape's live gauges: bounded labels, families always listed, stale peers dropped. */
import { describe, expect, it } from "vitest";
import { Exposition } from "../../lib/prom";
import type { CellMetrics, Peer } from "../../lib/rpc";
import { GAUGE_FAMILIES, MAX_PEERS, renderGauges } from "../../workers/metrics/gauges";

function peer(cell_id: string, status: Peer["status"] = "alive", rtt_ms: number | null = 12): Peer {
  return {
    cell_id,
    ip: "127.0.0.1",
    port: 8000,
    url: "http://127.0.0.1:8000",
    status,
    last_seen: "2026-01-01T00:00:00Z",
    first_seen: "2026-01-01T00:00:00Z",
    consciousness_level: null,
    services: [],
    branch: null,
    type: "cell",
    hostname: null,
    source: "register",
    rtt_ms,
  };
}

const CELL: CellMetrics = {
  cell_id: "me",
  level: 0.85,
  primitives: { awareness: 1, adaptation: 1, coherence: 1, momentum: 0 },
  graph: { entities: 3, observations: 5, relations: 1 },
  messages: 2,
  sync: [],
  peers: null,
};

const render = (cell: CellMetrics | undefined, peers: Peer[] | undefined) => {
  const e = new Exposition();
  renderGauges(e, "me", cell, peers);
  return e.text();
};

describe("metrics gauges", () => {
  it("renders every family from the cell and discovery", () => {
    const text = render({ ...CELL, sync: [{ peer_id: "b", lag_seconds: 1.5, in_sync: true }] }, [
      peer("b"),
      peer("c", "dead", null),
    ]);
    expect(text).toContain('aios_consciousness_level{cell_id="me"} 0.85');
    expect(text).toContain('aios_consciousness_primitive{cell_id="me",primitive="momentum"} 0');
    expect(text).toContain('aios_graph_relations{cell_id="me"} 1');
    expect(text).toContain('aios_messages{cell_id="me"} 2');
    expect(text).toContain('aios_peers{cell_id="me",status="dead"} 1');
    expect(text).toContain('aios_peer_up{cell_id="me",peer_id="b"} 1');
    expect(text).toContain('aios_peer_up{cell_id="me",peer_id="c"} 0');
    expect(text).toContain('aios_peer_rtt_seconds{cell_id="me",peer_id="b"} 0.012');
    expect(text).not.toContain('aios_peer_rtt_seconds{cell_id="me",peer_id="c"}');
    expect(text).toContain('aios_sync_lag_seconds{cell_id="me",peer_id="b"} 1.5');
    expect(text).toContain('aios_sync_in_sync{cell_id="me",peer_id="b"} 1');
  });

  it("lists every family with HELP and TYPE even when the cell and discovery do not answer", () => {
    const text = render(undefined, undefined);
    for (const name of GAUGE_FAMILIES) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} .{20,}$`, "m"));
      expect(text).toMatch(new RegExp(`^# TYPE ${name} gauge$`, "m"));
    }
    expect(text.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([]);
  });

  it("never turns anything but a cell id into a label value, and caps the peers", () => {
    const bad = ["Upper", "../etc", 'x"}', "a b", "", "-lead", "x".repeat(64)];
    const many = Array.from({ length: MAX_PEERS + 50 }, (_, i) => peer(`p-${String(i).padStart(4, "0")}`));
    const text = render({ ...CELL, sync: bad.map((peer_id) => ({ peer_id, lag_seconds: 1, in_sync: false })) }, [
      ...bad.map((id) => peer(id)),
      ...many,
      peer("p-0000"),
    ]);
    for (const m of text.matchAll(/peer_id="([^"]*)"/g)) expect(m[1]).toMatch(/^[a-z0-9][a-z0-9._-]{0,62}$/);
    expect(text.match(/^aios_peer_up\{/gm)?.length).toBe(MAX_PEERS);
    expect(text).not.toContain("aios_sync_lag_seconds{");
    // The per-status counts still cover every known peer.
    expect(text).toContain(`aios_peers{cell_id="me",status="alive"} ${bad.length + many.length + 1}`);
  });

  it("drops the sync series of peers discovery no longer knows", () => {
    const sync = [
      { peer_id: "b", lag_seconds: 3, in_sync: true },
      { peer_id: "gone", lag_seconds: 9000, in_sync: false },
      { peer_id: "never", lag_seconds: null, in_sync: false },
    ];
    const text = render({ ...CELL, sync }, [peer("b"), peer("never", "suspect")]);
    expect(text).toContain('aios_sync_lag_seconds{cell_id="me",peer_id="b"} 3');
    expect(text).not.toContain('peer_id="gone"');
    expect(text).not.toContain('aios_sync_lag_seconds{cell_id="me",peer_id="never"}');
    expect(text).toContain('aios_sync_in_sync{cell_id="me",peer_id="never"} 0');
    // Without discovery, the cell's own records are all there is.
    expect(render({ ...CELL, sync }, undefined)).toContain('aios_sync_lag_seconds{cell_id="me",peer_id="gone"} 9000');
  });
});
