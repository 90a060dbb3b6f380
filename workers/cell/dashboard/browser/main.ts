/**
 * The dashboard's script (bundled into the page by `npm run types`; see ../client.generated.ts). It
 * polls the public JSON endpoints every 2 s, draws the chart as SVG, and calls the token-protected
 * ones with the token the user enters. Every value from the server goes into the page as text
 * (textContent), never as markup.
 */
import { drawChart, loadHistory, onChartMove, renderLegend } from "./chart";
import { $, ago, clear, count, duration, el, fixed, getJson, lag, setText } from "./dom";
import { forget, loadNamespaces, loadPrivate, restoreToken, search, setLocked, unlock } from "./panels";
import { MINUTES, S, SERIES, type Consciousness, type Health, type Peer } from "./state";

const POLL_MS = 2000;
const HISTORY_MS = 15000;

function renderHealth(h: Health): void {
  S.cellId = h.cell_id;
  setText("cell-id", h.cell_id);
  document.title = `${h.cell_id} · AIOS cell`;
  $("status").className = `badge ${h.status === "healthy" ? "ok" : "warn"}`;
  setText("status", h.status);
  setText("version", h.version || "–");
  setText("branch", h.branch || "–");
  setText("hostname", h.hostname || "–");
  setText("uptime", duration(h.uptime_seconds));
}

function renderPrimitives(p: Consciousness["primitives"] & object): void {
  const box = $("primitives");
  const parts = SERIES.slice(1);
  if (!box.firstChild) {
    for (const s of parts) {
      const row = el("div", "prim");
      row.id = `prim-${s.key}`;
      const head = el("div", "prim-head");
      head.appendChild(el("b", null, s.label));
      head.appendChild(el("span", "prim-val", "–"));
      const bar = el("div", "bar");
      bar.appendChild(el("i", `fill-${s.key}`));
      row.appendChild(head);
      row.appendChild(bar);
      box.appendChild(row);
    }
  }
  for (const s of parts) {
    const row = $(`prim-${s.key}`);
    const v = p[s.key];
    row.querySelector(".prim-val")!.textContent = `${fixed(v, 3)}  ·  weight ${(s.weight ?? 0).toFixed(2)}`;
    (row.querySelector(".bar i") as HTMLElement).style.width = `${Math.round(Math.max(0, Math.min(1, v || 0)) * 1000) / 10}%`;
  }
}

function renderConsciousness(c: Consciousness): void {
  const level = c.level;
  setText("level", fixed(level, 3));
  setText("ring-text", typeof level === "number" ? `${Math.round(level * 100)}%` : "–");
  const circ = 2 * Math.PI * 50;
  $("ring-value").setAttribute("stroke-dashoffset", String(circ * (1 - Math.max(0, Math.min(1, level || 0)))));
  const p = c.primitives ?? {};
  renderPrimitives(p);
  const i = c.inputs ?? {};
  setText("st-peers", `${count(i.peers_alive)} / ${count(i.peers_known)}`);
  setText("st-insync", count(i.peers_in_sync));
  setText("recent-writes", count(i.recent_writes));
  setText("st-entities", count(i.graph?.entities));
  setText("st-observations", count(i.graph?.observations));
  setText("st-messages", count(i.messages));
  const note = !i.peers_known
    ? "A lone cell: it knows every cell there is and agrees with itself, so it reports 0.85 + 0.15 · momentum."
    : `${i.peers_alive ?? 0} of ${i.peers_known}${i.peers_known === 1 ? " peer" : " peers"} alive, ${i.peers_in_sync ?? 0} in sync; last sync ${ago(c.last_sync)}.`;
  setText("level-note", note);
  if (c.formula?.level) setText("formula", `level = ${c.formula.level.replace(/\*/g, "·")}`);
  // The chart's right edge follows the live measurement between history refreshes.
  S.live.push({
    t: Date.now(),
    level,
    awareness: p.awareness,
    adaptation: p.adaptation,
    coherence: p.coherence,
    momentum: p.momentum,
  });
  const cutoff = Date.now() - MINUTES * 60000;
  while (S.live.length && (S.live[0]!.t < cutoff || S.live.length > 2000)) S.live.shift();
}

function statusClass(s: string): string {
  return s === "alive" ? "ok" : s === "suspect" ? "warn" : "bad";
}

function peerRow(p: Peer): HTMLTableRowElement {
  const tr = el("tr");
  tr.setAttribute("data-peer", p.cell_id);
  const td = (text: string | null, cls?: string) => {
    const c = el("td", cls ?? null, text);
    tr.appendChild(c);
    return c;
  };
  td(null).appendChild(el("b", null, p.cell_id));
  td(`${p.ip}:${p.port}`, "mono muted");
  td(null, "status").appendChild(el("span", `pill dot ${statusClass(p.status)}`, p.status));
  td(typeof p.rtt_ms === "number" ? `${p.rtt_ms.toFixed(1)} ms` : "–", "right rtt");
  td(ago(p.last_seen), "last-seen");
  td(fixed(p.consciousness_level, 3), "right");
  const s = p.sync;
  td(s ? lag(s.lag_seconds) : "never", "right lag");
  const ins = td(null, "in-sync");
  if (!s) ins.appendChild(el("span", "pill neutral", "not yet"));
  else ins.appendChild(el("span", `pill dot ${s.in_sync ? "ok" : "warn"}`, s.in_sync ? "in sync" : "behind"));
  if (s?.last_error) ins.title = s.last_error;
  td(s ? count(s.rows_sent) : "0", "right rows-sent");
  td(s ? count(s.rows_received) : "0", "right rows-received");
  return tr;
}

function renderPeers(list: Peer[] | undefined): void {
  const body = $("peers");
  clear(body);
  const peers = (list ?? []).slice().sort((a, b) => (a.cell_id < b.cell_id ? -1 : 1));
  // With no peers the table gives way to a note (a wide empty table would scroll on a phone).
  $("peers-table").hidden = !peers.length;
  $("peers-empty").hidden = !!peers.length;
  for (const p of peers) body.appendChild(peerRow(p));
  const alive = peers.filter((p) => p.status === "alive").length;
  const synced = peers.filter((p) => p.sync?.in_sync).length;
  setText("peers-summary", peers.length ? `${alive} alive of ${peers.length} · ${synced} in sync` : "none known");
}

async function poll(): Promise<void> {
  try {
    const [health, consciousness, peers] = await Promise.all([
      getJson<Health>("/health"),
      getJson<Consciousness>("/consciousness"),
      getJson<{ peers?: Peer[] }>("/peers"),
    ]);
    if (!health.body || !consciousness.body || !consciousness.ok) throw new Error(`the cell answered ${consciousness.status}`);
    renderHealth(health.body);
    renderConsciousness(consciousness.body);
    if (peers.body) renderPeers(peers.body.peers);
    if (!peers.ok) setText("peers-summary", "discovery does not answer");
    S.lastOk = Date.now();
    S.failures = 0;
    $("banner").hidden = true;
    $("pulse").className = "pulse live";
    drawChart();
  } catch {
    S.failures++;
    $("pulse").className = "pulse down";
    if (S.failures >= 2) {
      const b = $("banner");
      b.textContent = `Lost contact with the cell${S.lastOk ? ` (last answer ${ago(new Date(S.lastOk).toISOString())})` : ""}: retrying every 2 s.`;
      b.hidden = false;
      $("status").className = "badge bad";
      setText("status", "unreachable");
    }
  }
  setText("updated", S.lastOk ? ago(new Date(S.lastOk).toISOString()) : "–");
  await loadPrivate();
}

function loop(fn: () => Promise<void>, ms: number): void {
  const run = async (): Promise<void> => {
    try {
      await fn();
    } finally {
      setTimeout(() => void run(), ms);
    }
  };
  void run();
}

restoreToken();
$("token-form").addEventListener("submit", (ev) => void unlock(ev));
$("forget").addEventListener("click", forget);
$("search-form").addEventListener("submit", (ev) => void search(ev));
$("chart").addEventListener("mousemove", onChartMove);
$("chart").addEventListener("mouseleave", () => {
  $("chart-tip").hidden = true;
});
let resizeTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(drawChart, 100);
});
renderLegend();
setLocked(null);
if (S.token) void loadNamespaces();
drawChart();
loop(poll, POLL_MS);
loop(loadHistory, HISTORY_MS);
