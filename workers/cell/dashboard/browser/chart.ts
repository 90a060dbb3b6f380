/** The level chart: an SVG drawn from the stored history (or Prometheus') plus the live measurements. */
import { $, clear, el, fixed, getJson, hhmm, setText, svg } from "./dom";
import { MINUTES, S, SERIES, type HistoryPoint, type Point } from "./state";

interface Geometry {
  x: (t: number) => number;
  W: number;
  pts: Point[];
}

let geometry: Geometry | null = null;

function chartPoints(): Point[] {
  const pts: Point[] = S.history.map((p) => ({
    t: Date.parse(p.t),
    level: p.level,
    awareness: p.awareness,
    adaptation: p.adaptation,
    coherence: p.coherence,
    momentum: p.momentum,
  }));
  // Prometheus' series is its own truth (scraped, so a little behind); the live measurements extend only our own history.
  if (S.source === "prometheus") return pts;
  const last = pts.length ? pts[pts.length - 1]!.t : 0;
  // Live points thinned to one per 10 s, like the stored history.
  let lastLive = last;
  for (const p of S.live) {
    if (p.t > lastLive + 9000) {
      pts.push(p);
      lastLive = p.t;
    }
  }
  const newest = S.live[S.live.length - 1];
  if (newest && newest.t > last && (!pts.length || pts[pts.length - 1] !== newest)) pts.push(newest);
  return pts;
}

export function renderLegend(): void {
  const box = $("legend");
  if (box.firstChild) return;
  for (const s of SERIES) {
    const b = el("button");
    b.type = "button";
    b.appendChild(el("i", `fill-${s.key}`));
    b.appendChild(document.createTextNode(s.label));
    b.addEventListener("click", () => {
      S.hidden[s.key] = !S.hidden[s.key];
      b.classList.toggle("off", !!S.hidden[s.key]);
      drawChart();
    });
    box.appendChild(b);
  }
}

export function drawChart(): void {
  const c = $("chart") as unknown as SVGSVGElement;
  const W = Math.max(320, Math.round(c.clientWidth || 700));
  const H = Math.max(220, Math.round(c.clientHeight || 280));
  c.setAttribute("viewBox", `0 0 ${W} ${H}`);
  clear(c);
  const m = { l: 40, r: 14, t: 12, b: 26 };
  const now = Date.now();
  const pts = chartPoints().filter((p) => p.t >= now - MINUTES * 60000);
  // A young history is shown over the time it covers (at least 5 min), not squeezed into the last pixels of an hour.
  const span = pts.length ? Math.min(MINUTES * 60000, Math.max(2 * 60000, (now - pts[0]!.t) * 1.05)) : MINUTES * 60000;
  const t0 = now - span;
  setText("h-chart", span >= MINUTES * 60000 ? "Level, last hour" : `Level, last ${Math.ceil(span / 60000)} min`);
  const iw = W - m.l - m.r;
  const ih = H - m.t - m.b;
  const x = (t: number) => m.l + ((t - t0) / (now - t0)) * iw;
  const y = (v: number) => m.t + (1 - v) * ih;
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    c.appendChild(svg("line", { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), class: "grid-line" }));
    c.appendChild(svg("text", { x: m.l - 8, y: y(v) + 4, "text-anchor": "end", class: "axis-label" }, v.toFixed(2)));
  }
  const steps = [30000, 60000, 120000, 300000, 600000, 900000];
  const tickEvery = steps.find((s) => span / s <= 7) ?? steps[steps.length - 1]!;
  for (let t = Math.ceil(t0 / tickEvery) * tickEvery; t <= now; t += tickEvery) {
    c.appendChild(svg("line", { x1: x(t), x2: x(t), y1: m.t, y2: H - m.b, class: "grid-line", opacity: 0.5 }));
    c.appendChild(svg("text", { x: x(t), y: H - 8, "text-anchor": "middle", class: "axis-label" }, hhmm(t, tickEvery < 60000)));
  }
  geometry = { x, W, pts };
  if (!pts.length) {
    c.appendChild(
      svg(
        "text",
        { x: m.l + iw / 2, y: m.t + ih / 2, "text-anchor": "middle", class: "empty" },
        "No history yet: the cell records its level every 10 s.",
      ),
    );
    return;
  }
  let maxGap = 60000;
  if (S.source === "prometheus" && pts.length > 1) maxGap = Math.max(60000, 4 * (pts[1]!.t - pts[0]!.t));
  for (const s of [...SERIES].reverse()) {
    if (S.hidden[s.key]) continue;
    let d = "";
    let area = "";
    let prev: number | null = null;
    let firstX: string | null = null;
    const base = y(0).toFixed(1);
    for (const p of pts) {
      const v = p[s.key];
      if (typeof v !== "number" || !isFinite(v)) {
        prev = null;
        continue;
      }
      const X = x(Math.max(t0, p.t)).toFixed(1);
      const Y = y(Math.max(0, Math.min(1, v))).toFixed(1);
      if (prev === null || p.t - prev > maxGap) {
        d += `M${X} ${Y}`;
        if (s.key === "level") {
          if (firstX !== null) area += `L${firstX} ${base}Z`;
          area += `M${X} ${base}L${X} ${Y}`;
          firstX = X;
        }
      } else {
        d += `L${X} ${Y}`;
        if (s.key === "level") {
          area += `L${X} ${Y}`;
          firstX = X;
        }
      }
      prev = p.t;
    }
    if (s.key === "level" && firstX !== null) {
      area += `L${firstX} ${base}Z`;
      c.appendChild(svg("path", { d: area, class: "area" }));
    }
    c.appendChild(svg("path", { d, class: `line stroke-${s.key}`, "stroke-width": s.width }));
  }
  const lastP = pts[pts.length - 1]!;
  if (!S.hidden.level && typeof lastP.level === "number") {
    c.appendChild(svg("circle", { cx: x(lastP.t), cy: y(lastP.level), r: 4, class: "fill-level" }));
  }
}

export function onChartMove(ev: MouseEvent): void {
  const tip = $("chart-tip");
  const c = $("chart");
  if (!geometry || !geometry.pts.length) {
    tip.hidden = true;
    return;
  }
  const g = geometry;
  const rect = c.getBoundingClientRect();
  const px = ((ev.clientX - rect.left) / rect.width) * g.W;
  let best: Point | null = null;
  let bestD = Infinity;
  for (const p of g.pts) {
    const dd = Math.abs(g.x(p.t) - px);
    if (dd < bestD) {
      bestD = dd;
      best = p;
    }
  }
  if (!best || bestD > 40) {
    tip.hidden = true;
    return;
  }
  clear(tip);
  tip.appendChild(el("b", null, new Date(best.t).toLocaleTimeString()));
  for (const s of SERIES) {
    const row = el("div");
    row.appendChild(el("span", null, s.label));
    row.appendChild(el("span", null, fixed(best[s.key], 3)));
    tip.appendChild(row);
  }
  tip.hidden = false;
  const left = (g.x(best.t) / g.W) * rect.width;
  tip.style.left = `${Math.min(Math.max(0, left + 12), rect.width - tip.offsetWidth)}px`;
  tip.style.top = "8px";
}

interface HistoryBody {
  points?: HistoryPoint[];
  source?: string;
  prometheus_error?: string;
}

export async function loadHistory(): Promise<void> {
  try {
    const r = await getJson<HistoryBody>(`/consciousness/history?minutes=${MINUTES}`);
    if (!r.ok || !r.body) return;
    S.history = r.body.points ?? [];
    S.source = r.body.source ?? null;
    const text =
      r.body.source === "prometheus"
        ? "From Prometheus (AIOS_PROMETHEUS_ADDR): aios_consciousness_level and aios_consciousness_primitive of this cell."
        : `From this cell's own history (a sample every 10 s, kept for a day)${
            r.body.prometheus_error ? ` · Prometheus unavailable: ${r.body.prometheus_error}` : ""
          }.`;
    setText("chart-source", text);
    S.live = S.live.filter((p) => p.t > Date.now() - 20000);
    drawChart();
  } catch {
    // the next refresh retries
  }
}
