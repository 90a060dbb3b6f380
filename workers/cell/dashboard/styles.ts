/** The dashboard's stylesheet: system fonts only, light and dark from the OS setting, no external assets. */
export const STYLES = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f4f6fb; --card: #ffffff; --card-2: #f8fafc; --text: #0f172a; --muted: #64748b; --border: #e2e8f0;
  --accent: #4f46e5; --accent-soft: rgba(79, 70, 229, .12); --on-accent: #ffffff;
  --ok: #15803d; --ok-soft: rgba(22, 163, 74, .14); --warn: #b45309; --warn-soft: rgba(217, 119, 6, .16);
  --bad: #b91c1c; --bad-soft: rgba(220, 38, 38, .13);
  --s-level: #4f46e5; --s-awareness: #0284c7; --s-coherence: #059669; --s-adaptation: #d97706; --s-momentum: #db2777;
  --shadow: 0 1px 2px rgba(15, 23, 42, .06), 0 4px 16px rgba(15, 23, 42, .05);
  --mono: ui-monospace, "SFMono-Regular", "JetBrains Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0b1020; --card: #121a2e; --card-2: #0f1628; --text: #e2e8f0; --muted: #94a3b8; --border: #1f2a44;
    --accent: #818cf8; --accent-soft: rgba(129, 140, 248, .16); --on-accent: #0b1020;
    --ok: #4ade80; --ok-soft: rgba(74, 222, 128, .14); --warn: #fbbf24; --warn-soft: rgba(251, 191, 36, .15);
    --bad: #f87171; --bad-soft: rgba(248, 113, 113, .15);
    --s-level: #a5b4fc; --s-awareness: #38bdf8; --s-coherence: #34d399; --s-adaptation: #fbbf24; --s-momentum: #f472b6;
    --shadow: 0 1px 2px rgba(0, 0, 0, .3), 0 8px 24px rgba(0, 0, 0, .25);
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; }
body {
  background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif;
  -webkit-font-smoothing: antialiased;
}
[hidden] { display: none !important; }
.wrap { max-width: 1280px; margin: 0 auto; padding: 20px 24px 40px; }

/* header */
.top { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 16px; margin-bottom: 18px; }
.brand { display: flex; align-items: center; gap: 14px; min-width: 0; }
.mark { width: 40px; height: 40px; flex: none; }
.mark .orbit { stroke: var(--accent); opacity: .35; } .mark .core { fill: var(--accent); }
.mark .sat-a { fill: var(--s-awareness); } .mark .sat-b { fill: var(--s-coherence); } .mark .sat-c { fill: var(--s-momentum); }
.eyebrow { font-size: 11px; letter-spacing: .12em; text-transform: uppercase; color: var(--muted); font-weight: 600; }
h1 { margin: 0; font-size: 24px; font-weight: 700; letter-spacing: -.01em; overflow-wrap: anywhere; }
.facts { display: flex; flex-wrap: wrap; gap: 6px 22px; margin: 0; }
.facts div { min-width: 0; }
.facts dt { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: .08em; }
.facts dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; display: flex; align-items: center; gap: 6px; }
.pulse { width: 8px; height: 8px; border-radius: 50%; background: var(--muted); flex: none; }
.pulse.live { background: var(--ok); box-shadow: 0 0 0 0 var(--ok-soft); animation: pulse 2s infinite; }
.pulse.down { background: var(--bad); }
@keyframes pulse { 0% { box-shadow: 0 0 0 0 var(--ok-soft); } 70% { box-shadow: 0 0 0 8px transparent; } 100% { box-shadow: 0 0 0 0 transparent; } }
@media (prefers-reduced-motion: reduce) { .pulse.live { animation: none; } }

.badge, .pill {
  display: inline-flex; align-items: center; gap: 6px; border-radius: 999px; font-weight: 600; white-space: nowrap;
  background: var(--accent-soft); color: var(--accent);
}
.badge { padding: 4px 12px; font-size: 13px; text-transform: capitalize; }
.pill { padding: 1px 9px; font-size: 12px; }
.badge::before, .pill.dot::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
.ok { background: var(--ok-soft); color: var(--ok); }
.warn { background: var(--warn-soft); color: var(--warn); }
.bad { background: var(--bad-soft); color: var(--bad); }
.neutral { background: var(--card-2); color: var(--muted); border: 1px solid var(--border); }

.banner { margin-bottom: 16px; padding: 10px 14px; border-radius: 10px; background: var(--bad-soft); color: var(--bad); font-weight: 600; }

/* cards */
.grid { display: grid; grid-template-columns: repeat(12, minmax(0, 1fr)); gap: 16px; }
.card {
  background: var(--card); border: 1px solid var(--border); border-radius: 14px; padding: 16px 18px; box-shadow: var(--shadow);
  grid-column: span 12; min-width: 0;
}
.span-4 { grid-column: span 4; } .span-6 { grid-column: span 6; } .span-8 { grid-column: span 8; }
@media (max-width: 960px) { .span-4, .span-6, .span-8 { grid-column: span 12; } }
.card-head { display: flex; align-items: baseline; justify-content: space-between; gap: 10px; margin-bottom: 12px; flex-wrap: wrap; }
h2 { margin: 0; font-size: 13px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); font-weight: 700; }
.sub { color: var(--muted); font-size: 12px; }
.muted { color: var(--muted); }
.mono { font-family: var(--mono); font-size: 12.5px; }
.num { font-variant-numeric: tabular-nums; }

/* level */
.level-top { display: flex; align-items: center; gap: 18px; margin-bottom: 14px; }
.ring { width: 112px; height: 112px; flex: none; }
.ring .track { stroke: var(--border); }
.ring .value { stroke: var(--s-level); transition: stroke-dashoffset .6s ease; }
.ring text { fill: var(--text); font-weight: 700; font-size: 22px; font-variant-numeric: tabular-nums; }
.big { font-size: 44px; font-weight: 750; letter-spacing: -.02em; line-height: 1; font-variant-numeric: tabular-nums; }
.level-note { color: var(--muted); font-size: 12.5px; margin-top: 6px; }
.prims { display: grid; gap: 10px; }
.prim-head { display: flex; justify-content: space-between; font-size: 13px; margin-bottom: 4px; }
.prim-head b { font-weight: 600; }
.prim-head span { color: var(--muted); font-variant-numeric: tabular-nums; }
.bar { height: 8px; border-radius: 999px; background: var(--card-2); border: 1px solid var(--border); overflow: hidden; }
.bar i { display: block; height: 100%; width: 0; border-radius: 999px; transition: width .6s ease; }
.stats { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; margin-top: 14px; }
.stat { background: var(--card-2); border: 1px solid var(--border); border-radius: 10px; padding: 8px 10px; min-width: 0; }
.stat b { display: block; font-size: 18px; font-variant-numeric: tabular-nums; }
.stat span { font-size: 11.5px; color: var(--muted); }
.formula { margin-top: 12px; font-size: 11.5px; color: var(--muted); font-family: var(--mono); overflow-wrap: anywhere; }

/* chart */
.chart-card { display: flex; flex-direction: column; }
.chart-box { position: relative; flex: 1 1 auto; min-height: 260px; }
#chart { position: absolute; inset: 0; display: block; width: 100%; height: 100%; }
#chart .line { opacity: .9; } #chart .stroke-level { opacity: 1; }
.stroke-level { stroke: var(--s-level); } .stroke-awareness { stroke: var(--s-awareness); }
.stroke-coherence { stroke: var(--s-coherence); } .stroke-adaptation { stroke: var(--s-adaptation); }
.stroke-momentum { stroke: var(--s-momentum); }
.fill-level { background: var(--s-level); fill: var(--s-level); } .fill-awareness { background: var(--s-awareness); }
.fill-coherence { background: var(--s-coherence); } .fill-adaptation { background: var(--s-adaptation); }
.fill-momentum { background: var(--s-momentum); }
#chart .grid-line { stroke: var(--border); stroke-width: 1; }
#chart .axis-label { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
#chart .empty { fill: var(--muted); font-size: 13px; }
#chart path { fill: none; stroke-linejoin: round; stroke-linecap: round; }
#chart .area { stroke: none; fill: var(--accent-soft); }
#chart .cursor { stroke: var(--muted); stroke-dasharray: 3 3; }
#chart-source { margin-top: 8px; }
#search-results { margin-top: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px; }
.legend button {
  display: inline-flex; align-items: center; gap: 6px; border: 1px solid var(--border); background: var(--card-2); color: var(--text);
  border-radius: 999px; padding: 2px 10px; font: inherit; font-size: 12px; cursor: pointer;
}
.legend button i { width: 10px; height: 3px; border-radius: 2px; display: inline-block; }
.legend button.off { opacity: .45; }
.tip {
  position: absolute; pointer-events: none; background: var(--card); border: 1px solid var(--border); border-radius: 8px;
  padding: 6px 9px; font-size: 12px; box-shadow: var(--shadow); min-width: 150px; font-variant-numeric: tabular-nums;
}
.tip div { display: flex; justify-content: space-between; gap: 12px; }

/* tables and lists */
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600;
  padding: 6px 10px; border-bottom: 1px solid var(--border); white-space: nowrap; }
td { padding: 9px 10px; border-bottom: 1px solid var(--border); white-space: nowrap; font-variant-numeric: tabular-nums; }
tr:last-child td { border-bottom: none; }
td.right, th.right { text-align: right; }
.empty-state { padding: 22px 10px; text-align: center; color: var(--muted); white-space: normal; }
.empty-state b { display: block; color: var(--text); margin-bottom: 4px; }

.list { display: grid; gap: 8px; max-height: 360px; overflow-y: auto; }
.item { border: 1px solid var(--border); background: var(--card-2); border-radius: 10px; padding: 9px 11px; min-width: 0; }
.item-head { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.item-head b { color: var(--text); font-size: 13px; }
.item-body { overflow-wrap: anywhere; white-space: pre-wrap; }
.kv { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; font-size: 12.5px; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; overflow-wrap: anywhere; }
.obs { margin: 4px 0 0; padding-left: 18px; font-size: 13px; }
.obs li { overflow-wrap: anywhere; }
mark { background: var(--warn-soft); color: inherit; border-radius: 3px; padding: 0 1px; }

/* forms */
form { margin: 0; }
.row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
input, select, button { font: inherit; }
input, select {
  border: 1px solid var(--border); background: var(--card-2); color: var(--text); border-radius: 9px; padding: 7px 10px; min-width: 0;
}
input:focus, select:focus, button:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
input.grow { flex: 1 1 220px; }
button.primary, button.ghost { border-radius: 9px; padding: 7px 14px; font-weight: 600; cursor: pointer; }
button.primary { border: 1px solid var(--accent); background: var(--accent); color: var(--on-accent); }
button.ghost { border: 1px solid var(--border); background: transparent; color: var(--text); }
.lock { display: flex; align-items: center; justify-content: space-between; gap: 14px; flex-wrap: wrap; }
.lock p { margin: 0; }
.notice { margin-top: 10px; padding: 8px 12px; border-radius: 9px; font-size: 13px; }
.notice.bad { font-weight: 600; }
.locked { padding: 18px 10px; text-align: center; color: var(--muted); border: 1px dashed var(--border); border-radius: 10px; }
footer { margin-top: 22px; color: var(--muted); font-size: 12px; text-align: center; }
`;
