/**
 * The dashboard's script, inlined into the page (CSP nonce). Plain browser
 * JavaScript: it polls the public JSON endpoints every 2 s, draws the chart
 * as SVG, and calls the token-protected ones with the token the user enters
 * (kept in sessionStorage). Every value from the server goes into the page as
 * text (textContent), never as markup.
 */
export const CLIENT_JS = String.raw`
(function () {
  "use strict";
  var POLL_MS = 2000, HISTORY_MS = 15000, MINUTES = 60, TOKEN_KEY = "aios-api-token";
  var SVGNS = "http://www.w3.org/2000/svg";
  var SERIES = [
    { key: "level", label: "level", width: 2.6 },
    { key: "awareness", label: "awareness", width: 1.6, weight: 0.30 },
    { key: "coherence", label: "coherence", width: 1.6, weight: 0.30 },
    { key: "adaptation", label: "adaptation", width: 1.6, weight: 0.25 },
    { key: "momentum", label: "momentum", width: 1.6, weight: 0.15 }
  ];
  var S = {
    cellId: null, history: [], live: [], source: null, hidden: {}, lastOk: 0, failures: 0,
    token: null, privateKey: { messages: "", contexts: "" }, namespaces: ""
  };
  try { S.token = sessionStorage.getItem(TOKEN_KEY); } catch (e) { S.token = null; }

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }
  function svg(tag, attrs, text) {
    var n = document.createElementNS(SVGNS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) n.setAttribute(k, String(attrs[k]));
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }
  function setText(id, v) { var n = $(id); if (n && n.textContent !== String(v)) n.textContent = String(v); }
  function fixed(v, d) { return typeof v === "number" && isFinite(v) ? v.toFixed(d) : "–"; }
  function count(v) { return typeof v === "number" ? v.toLocaleString("en-US") : "–"; }
  function ago(iso) {
    if (!iso) return "never";
    var s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (!isFinite(s)) return "–";
    if (s < 2) return "just now";
    if (s < 60) return Math.round(s) + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  }
  function duration(sec) {
    if (typeof sec !== "number" || !isFinite(sec)) return "–";
    sec = Math.round(sec);
    var d = Math.floor(sec / 86400), h = Math.floor((sec % 86400) / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
    if (d) return d + " d " + h + " h";
    if (h) return h + " h " + m + " min";
    if (m) return m + " min " + s + " s";
    return s + " s";
  }
  function lag(sec) {
    if (sec === null || sec === undefined) return "never";
    if (sec < 10) return sec.toFixed(1) + " s";
    return duration(sec);
  }
  function hhmm(t, seconds) {
    var d = new Date(t), two = function (n) { return String(n).padStart(2, "0"); };
    return two(d.getHours()) + ":" + two(d.getMinutes()) + (seconds ? ":" + two(d.getSeconds()) : "");
  }

  async function getJson(path, token) {
    var headers = { accept: "application/json" };
    if (token) headers.authorization = "Bearer " + token;
    var res = await fetch(path, { headers: headers, cache: "no-store" });
    var body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    return { status: res.status, ok: res.ok, body: body };
  }

  // ---- header, level, peers -------------------------------------------------

  function renderHealth(h) {
    S.cellId = h.cell_id;
    setText("cell-id", h.cell_id);
    document.title = h.cell_id + " · AIOS cell";
    var badge = $("status");
    badge.className = "badge " + (h.status === "healthy" ? "ok" : "warn");
    setText("status", h.status);
    setText("version", h.version || "–");
    setText("branch", h.branch || "–");
    setText("hostname", h.hostname || "–");
    setText("uptime", duration(h.uptime_seconds));
  }

  function renderPrimitives(p) {
    var box = $("primitives");
    if (!box.firstChild) {
      SERIES.slice(1).forEach(function (s) {
        var row = el("div", "prim");
        row.id = "prim-" + s.key;
        var head = el("div", "prim-head");
        var name = el("b", null, s.label);
        var val = el("span", "prim-val", "–");
        head.appendChild(name); head.appendChild(val);
        var bar = el("div", "bar"), fill = el("i", "fill-" + s.key);
        bar.appendChild(fill);
        row.appendChild(head); row.appendChild(bar);
        box.appendChild(row);
      });
    }
    SERIES.slice(1).forEach(function (s) {
      var row = $("prim-" + s.key), v = p[s.key];
      row.querySelector(".prim-val").textContent = fixed(v, 3) + "  ·  weight " + s.weight.toFixed(2);
      row.querySelector(".bar i").style.width = Math.round(Math.max(0, Math.min(1, v || 0)) * 1000) / 10 + "%";
    });
  }

  function renderConsciousness(c) {
    var level = c.level;
    setText("level", fixed(level, 3));
    setText("ring-text", typeof level === "number" ? Math.round(level * 100) + "%" : "–");
    var circ = 2 * Math.PI * 50;
    $("ring-value").setAttribute("stroke-dashoffset", String(circ * (1 - Math.max(0, Math.min(1, level || 0)))));
    renderPrimitives(c.primitives || {});
    var i = c.inputs || {};
    setText("st-peers", count(i.peers_alive) + " / " + count(i.peers_known));
    setText("st-insync", count(i.peers_in_sync));
    setText("recent-writes", count(i.recent_writes));
    setText("st-entities", count(i.graph && i.graph.entities));
    setText("st-observations", count(i.graph && i.graph.observations));
    setText("st-messages", count(i.messages));
    var note;
    if (!i.peers_known) note = "A lone cell: it knows every cell there is and agrees with itself, so it reports 0.85 + 0.15 · momentum.";
    else note = (i.peers_alive || 0) + " of " + i.peers_known + (i.peers_known === 1 ? " peer" : " peers") + " alive, " + (i.peers_in_sync || 0) + " in sync; last sync " + ago(c.last_sync) + ".";
    setText("level-note", note);
    if (c.formula && c.formula.level) setText("formula", "level = " + c.formula.level.replace(/\*/g, "·"));
    // The chart's right edge follows the live measurement between history refreshes.
    var p = c.primitives || {};
    S.live.push({ t: Date.now(), level: level, awareness: p.awareness, adaptation: p.adaptation, coherence: p.coherence, momentum: p.momentum });
    var cutoff = Date.now() - MINUTES * 60000;
    while (S.live.length && (S.live[0].t < cutoff || S.live.length > 2000)) S.live.shift();
  }

  function statusClass(s) { return s === "alive" ? "ok" : s === "suspect" ? "warn" : "bad"; }

  function peerRow(p) {
    var tr = el("tr");
    tr.setAttribute("data-peer", p.cell_id);
    function td(text, cls) { var c = el("td", cls || null, text); tr.appendChild(c); return c; }
    var id = td(null); id.appendChild(el("b", null, p.cell_id));
    td(p.ip + ":" + p.port, "mono muted");
    var st = td(null, "status"); st.appendChild(el("span", "pill dot " + statusClass(p.status), p.status));
    td(typeof p.rtt_ms === "number" ? p.rtt_ms.toFixed(1) + " ms" : "–", "right rtt");
    td(ago(p.last_seen), "last-seen");
    td(fixed(p.consciousness_level, 3), "right");
    var s = p.sync;
    td(s ? lag(s.lag_seconds) : "never", "right lag");
    var ins = td(null, "in-sync");
    if (!s) ins.appendChild(el("span", "pill neutral", "not yet"));
    else ins.appendChild(el("span", "pill dot " + (s.in_sync ? "ok" : "warn"), s.in_sync ? "in sync" : "behind"));
    if (s && s.last_error) ins.title = s.last_error;
    td(s ? count(s.rows_sent) : "0", "right rows-sent");
    td(s ? count(s.rows_received) : "0", "right rows-received");
    return tr;
  }

  function renderPeers(list) {
    var body = $("peers");
    clear(body);
    var peers = (list || []).slice().sort(function (a, b) { return a.cell_id < b.cell_id ? -1 : 1; });
    // With no peers the table gives way to a note (a wide empty table would scroll on a phone).
    $("peers-table").hidden = !peers.length;
    $("peers-empty").hidden = !!peers.length;
    peers.forEach(function (p) { body.appendChild(peerRow(p)); });
    var alive = peers.filter(function (p) { return p.status === "alive"; }).length;
    var synced = peers.filter(function (p) { return p.sync && p.sync.in_sync; }).length;
    setText("peers-summary", peers.length ? alive + " alive of " + peers.length + " · " + synced + " in sync" : "none known");
  }

  // ---- chart -----------------------------------------------------------------

  function chartPoints() {
    var pts = S.history.map(function (p) {
      return { t: Date.parse(p.t), level: p.level, awareness: p.awareness, adaptation: p.adaptation, coherence: p.coherence, momentum: p.momentum };
    });
    // Prometheus' series is its own truth (scraped, so a little behind); the live measurements extend only our own history.
    if (S.source === "prometheus") return pts;
    var last = pts.length ? pts[pts.length - 1].t : 0;
    // Live points thinned to one per 10 s, like the stored history.
    var lastLive = last;
    S.live.forEach(function (p) {
      if (p.t > lastLive + 9000) { pts.push(p); lastLive = p.t; }
    });
    if (S.live.length) {
      var newest = S.live[S.live.length - 1];
      if (newest.t > last && (!pts.length || pts[pts.length - 1] !== newest)) pts.push(newest);
    }
    return pts;
  }

  function renderLegend() {
    var box = $("legend");
    if (box.firstChild) return;
    SERIES.forEach(function (s) {
      var b = el("button");
      b.type = "button";
      var sw = el("i", "fill-" + s.key);
      b.appendChild(sw);
      b.appendChild(document.createTextNode(s.label));
      b.addEventListener("click", function () {
        S.hidden[s.key] = !S.hidden[s.key];
        b.classList.toggle("off", !!S.hidden[s.key]);
        drawChart();
      });
      box.appendChild(b);
    });
  }

  var geometry = null;

  function drawChart() {
    var c = $("chart");
    var W = Math.max(320, Math.round(c.clientWidth || 700)), H = Math.max(220, Math.round(c.clientHeight || 280));
    c.setAttribute("viewBox", "0 0 " + W + " " + H);
    clear(c);
    var m = { l: 40, r: 14, t: 12, b: 26 };
    var now = Date.now();
    var all = chartPoints().filter(function (p) { return p.t >= now - MINUTES * 60000; });
    // A young history is shown over the time it covers (at least 5 min), not squeezed into the last pixels of an hour.
    var span = all.length ? Math.min(MINUTES * 60000, Math.max(2 * 60000, (now - all[0].t) * 1.05)) : MINUTES * 60000;
    var t0 = now - span;
    setText("h-chart", span >= MINUTES * 60000 ? "Level, last hour" : "Level, last " + Math.ceil(span / 60000) + " min");
    var iw = W - m.l - m.r, ih = H - m.t - m.b;
    function x(t) { return m.l + ((t - t0) / (now - t0)) * iw; }
    function y(v) { return m.t + (1 - v) * ih; }
    [0, 0.25, 0.5, 0.75, 1].forEach(function (v) {
      c.appendChild(svg("line", { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), "class": "grid-line" }));
      c.appendChild(svg("text", { x: m.l - 8, y: y(v) + 4, "text-anchor": "end", "class": "axis-label" }, v.toFixed(2)));
    });
    var steps = [30000, 60000, 120000, 300000, 600000, 900000], tickEvery = steps[steps.length - 1];
    for (var si = 0; si < steps.length; si++) if (span / steps[si] <= 7) { tickEvery = steps[si]; break; }
    for (var t = Math.ceil(t0 / tickEvery) * tickEvery; t <= now; t += tickEvery) {
      c.appendChild(svg("line", { x1: x(t), x2: x(t), y1: m.t, y2: H - m.b, "class": "grid-line", opacity: 0.5 }));
      c.appendChild(svg("text", { x: x(t), y: H - 8, "text-anchor": "middle", "class": "axis-label" }, hhmm(t, tickEvery < 60000)));
    }
    var pts = all;
    geometry = { x: x, y: y, m: m, W: W, H: H, pts: pts, t0: t0, now: now };
    if (!pts.length) {
      c.appendChild(svg("text", { x: m.l + iw / 2, y: m.t + ih / 2, "text-anchor": "middle", "class": "empty" },
        "No history yet: the cell records its level every 10 s."));
      return;
    }
    var maxGap = 60000;
    if (S.source === "prometheus" && pts.length > 1) maxGap = Math.max(60000, 4 * (pts[1].t - pts[0].t));
    SERIES.slice().reverse().forEach(function (s) {
      if (S.hidden[s.key]) return;
      var d = "", prev = null, area = "", first = null;
      pts.forEach(function (p) {
        var v = p[s.key];
        if (typeof v !== "number" || !isFinite(v)) { prev = null; return; }
        var X = x(Math.max(t0, p.t)).toFixed(1), Y = y(Math.max(0, Math.min(1, v))).toFixed(1);
        if (prev === null || p.t - prev > maxGap) {
          d += "M" + X + " " + Y;
          if (s.key === "level" && first !== null) area += "L" + first.lx + " " + y(0).toFixed(1) + "Z";
          if (s.key === "level") { area += "M" + X + " " + y(0).toFixed(1) + "L" + X + " " + Y; first = { lx: X }; }
        } else {
          d += "L" + X + " " + Y;
          if (s.key === "level") { area += "L" + X + " " + Y; first.lx = X; }
        }
        prev = p.t;
      });
      if (s.key === "level" && first !== null) {
        area += "L" + first.lx + " " + y(0).toFixed(1) + "Z";
        c.appendChild(svg("path", { d: area, "class": "area" }));
      }
      c.appendChild(svg("path", { d: d, "class": "line stroke-" + s.key, "stroke-width": s.width }));
    });
    var lastP = pts[pts.length - 1];
    if (!S.hidden.level && typeof lastP.level === "number") {
      c.appendChild(svg("circle", { cx: x(lastP.t), cy: y(lastP.level), r: 4, "class": "fill-level" }));
    }
  }

  function onChartMove(ev) {
    var tip = $("chart-tip"), c = $("chart");
    if (!geometry || !geometry.pts.length) { tip.hidden = true; return; }
    var rect = c.getBoundingClientRect();
    var px = ((ev.clientX - rect.left) / rect.width) * geometry.W;
    var best = null, bestD = Infinity;
    geometry.pts.forEach(function (p) { var dd = Math.abs(geometry.x(p.t) - px); if (dd < bestD) { bestD = dd; best = p; } });
    if (!best || bestD > 40) { tip.hidden = true; return; }
    clear(tip);
    tip.appendChild(el("b", null, new Date(best.t).toLocaleTimeString()));
    SERIES.forEach(function (s) {
      var row = el("div"); row.appendChild(el("span", null, s.label)); row.appendChild(el("span", null, fixed(best[s.key], 3)));
      tip.appendChild(row);
    });
    tip.hidden = false;
    var left = (geometry.x(best.t) / geometry.W) * rect.width;
    tip.style.left = Math.min(Math.max(0, left + 12), rect.width - tip.offsetWidth) + "px";
    tip.style.top = "8px";
  }

  async function loadHistory() {
    try {
      var r = await getJson("/consciousness/history?minutes=" + MINUTES);
      if (!r.ok || !r.body) return;
      S.history = r.body.points || [];
      S.source = r.body.source;
      var text = r.body.source === "prometheus"
        ? "From Prometheus (AIOS_PROMETHEUS_ADDR): aios_consciousness_level and aios_consciousness_primitive of this cell."
        : "From this cell's own history (a sample every 10 s, kept for a day)" +
          (r.body.prometheus_error ? " · Prometheus unavailable: " + r.body.prometheus_error : "") + ".";
      setText("chart-source", text);
      S.live = S.live.filter(function (p) { return p.t > Date.now() - 20000; });
      drawChart();
    } catch (e) { /* the next refresh retries */ }
  }

  // ---- token-protected panels ------------------------------------------------

  function setLocked(message) {
    var unlocked = !!S.token;
    $("token-form").hidden = unlocked;
    $("unlocked").hidden = !unlocked;
    var err = $("token-error");
    err.hidden = !message;
    err.textContent = message || "";
    if (!unlocked) {
      S.privateKey = { messages: "", contexts: "" };
      ["messages", "contexts", "search-results"].forEach(function (id) {
        var box = $(id); clear(box);
        box.appendChild(el("div", "locked", id === "search-results" ? "Enter the API token above to search the shared memory." : "Locked: enter the API token above to see " + (id === "messages" ? "the messages between cells." : "every cell's editing context.")));
      });
      setText("messages-count", "");
      setText("search-summary", "");
    }
  }

  function refused(r) {
    S.token = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
    var why = r.body && r.body.error ? r.body.error : "the token is not valid";
    setLocked("The cell refused the token (401 Unauthorized): " + why + ". Enter the token from data/api-token.");
  }

  function contentText(v) {
    if (typeof v === "string") return v;
    try { return JSON.stringify(v, null, 2); } catch (e) { return String(v); }
  }

  function renderMessages(body) {
    var key = JSON.stringify(body.messages);
    setText("messages-count", count(body.count) + " of " + count(body.total));
    if (key === S.privateKey.messages) return;
    S.privateKey.messages = key;
    var box = $("messages");
    clear(box);
    if (!body.messages.length) { box.appendChild(el("div", "locked", "No messages yet.")); return; }
    body.messages.forEach(function (msg) {
      var item = el("div", "item message");
      var head = el("div", "item-head");
      head.appendChild(el("b", null, msg.from_cell + (msg.to_cell ? " → " + msg.to_cell : "")));
      head.appendChild(el("span", "pill", msg.message_type));
      var pr = String(msg.priority);
      if (pr !== "normal") head.appendChild(el("span", "pill " + (pr === "high" || pr === "urgent" || Number(pr) >= 7 ? "bad" : "neutral"), pr));
      var time = el("span", null, ago(msg.timestamp));
      time.title = msg.timestamp;
      head.appendChild(time);
      item.appendChild(head);
      item.appendChild(el("div", "item-body", contentText(msg.content)));
      box.appendChild(item);
    });
  }

  function renderContexts(body) {
    var key = JSON.stringify(body.contexts);
    if (key === S.privateKey.contexts) return;
    S.privateKey.contexts = key;
    var box = $("contexts");
    clear(box);
    if (!body.contexts.length) { box.appendChild(el("div", "locked", "No cell has shared its context yet.")); return; }
    body.contexts.forEach(function (cx) {
      var item = el("div", "item context");
      var head = el("div", "item-head");
      head.appendChild(el("b", null, cx.cell_id));
      if (cx.cell_id === S.cellId) head.appendChild(el("span", "pill", "this cell"));
      var time = el("span", null, "updated " + ago(cx.updated_at));
      time.title = cx.updated_at;
      head.appendChild(time);
      item.appendChild(head);
      var dl = el("dl", "kv");
      var c = cx.context || {};
      Object.keys(c).forEach(function (k) {
        var v = c[k];
        if (k === "selection" && v && typeof v === "object" && "start_line" in v) v = "lines " + v.start_line + "–" + v.end_line;
        dl.appendChild(el("dt", null, k));
        dl.appendChild(el("dd", k === "file" ? "mono" : null, typeof v === "string" ? v : contentText(v)));
      });
      item.appendChild(dl);
      box.appendChild(item);
    });
  }

  async function loadNamespaces() {
    var r = await getJson("/memory", S.token);
    if (r.status === 401) return refused(r);
    if (!r.ok || !r.body) return;
    var list = (r.body.namespaces || []).slice();
    if (list.indexOf("default") < 0) list.unshift("default");
    var key = list.join(",");
    if (key === S.namespaces) return;
    S.namespaces = key;
    var sel = $("search-ns"), cur = sel.value;
    clear(sel);
    list.forEach(function (ns) { var o = el("option", null, ns); o.value = ns; sel.appendChild(o); });
    sel.value = list.indexOf(cur) >= 0 ? cur : "default";
  }

  async function loadPrivate() {
    if (!S.token) return;
    try {
      var res = await Promise.all([getJson("/messages?limit=20", S.token), getJson("/context", S.token)]);
      for (var i = 0; i < res.length; i++) if (res[i].status === 401) return refused(res[i]);
      if (res[0].ok && res[0].body) renderMessages(res[0].body);
      if (res[1].ok && res[1].body) renderContexts(res[1].body);
    } catch (e) { /* shown by the public poll */ }
  }

  function highlight(text, q) {
    var span = el("span");
    var lower = text.toLowerCase(), ql = q.toLowerCase(), i = 0;
    if (!ql) { span.textContent = text; return span; }
    for (var guard = 0; guard < 200; guard++) {
      var j = lower.indexOf(ql, i);
      if (j < 0) break;
      span.appendChild(document.createTextNode(text.slice(i, j)));
      span.appendChild(el("mark", null, text.slice(j, j + q.length)));
      i = j + q.length;
    }
    span.appendChild(document.createTextNode(text.slice(i)));
    return span;
  }

  async function search(ev) {
    ev.preventDefault();
    var box = $("search-results");
    if (!S.token) { setLocked("Enter the API token first: memory search needs it."); return; }
    var q = $("search-q").value.trim(), ns = $("search-ns").value || "default";
    if (!q) { setText("search-summary", "type something to search for"); return; }
    setText("search-summary", "searching…");
    var r = await getJson("/memory/search_nodes?limit=20&namespace=" + encodeURIComponent(ns) + "&query=" + encodeURIComponent(q), S.token);
    if (r.status === 401) return refused(r);
    clear(box);
    if (!r.ok || !r.body) {
      setText("search-summary", "");
      box.appendChild(el("div", "notice bad", (r.body && r.body.error) || "search failed (" + r.status + ")"));
      return;
    }
    var ents = r.body.entities || [], rels = r.body.relations || [];
    setText("search-summary", ents.length + " entit" + (ents.length === 1 ? "y" : "ies") + ", " + rels.length + " relation" + (rels.length === 1 ? "" : "s") + " in " + ns);
    if (!ents.length) box.appendChild(el("div", "locked", "Nothing in “" + ns + "” matches “" + q + "”."));
    ents.forEach(function (e) {
      var item = el("div", "item entity");
      item.setAttribute("data-entity", e.name);
      var head = el("div", "item-head");
      var name = el("b"); name.appendChild(highlight(e.name, q)); head.appendChild(name);
      head.appendChild(el("span", "pill", e.entityType));
      item.appendChild(head);
      var ul = el("ul", "obs");
      (e.observations || []).slice(0, 8).forEach(function (o) { var li = el("li"); li.appendChild(highlight(o, q)); ul.appendChild(li); });
      if ((e.observations || []).length > 8) ul.appendChild(el("li", "muted", "… " + (e.observations.length - 8) + " more"));
      item.appendChild(ul);
      var mine = rels.filter(function (x) { return x.from === e.name || x.to === e.name; });
      if (mine.length) {
        var rl = el("div", "sub");
        rl.textContent = mine.slice(0, 6).map(function (x) { return x.from + " " + x.relationType + " " + x.to; }).join(" · ");
        item.appendChild(rl);
      }
      box.appendChild(item);
    });
    void loadNamespaces();
  }

  async function unlock(ev) {
    ev.preventDefault();
    var t = $("token").value.trim();
    if (!t) { setLocked("Enter the API token (it is in data/api-token)."); return; }
    var r = await getJson("/messages?limit=1", t);
    if (r.status === 401) { $("token").value = ""; return refused(r); }
    S.token = t;
    try { sessionStorage.setItem(TOKEN_KEY, t); } catch (e) { /* kept in memory only */ }
    $("token").value = "";
    setLocked(null);
    clear($("search-results"));
    void loadPrivate();
    void loadNamespaces();
  }

  function forget() {
    S.token = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
    setLocked(null);
  }

  // ---- the poll loop -----------------------------------------------------------

  async function poll() {
    try {
      var res = await Promise.all([getJson("/health"), getJson("/consciousness"), getJson("/peers")]);
      if (!res[0].body || !res[1].body || !res[1].ok) throw new Error("the cell answered " + res[1].status);
      renderHealth(res[0].body);
      renderConsciousness(res[1].body);
      if (res[2].body) renderPeers(res[2].body.peers);
      if (!res[2].ok) setText("peers-summary", "discovery does not answer");
      S.lastOk = Date.now();
      S.failures = 0;
      $("banner").hidden = true;
      $("pulse").className = "pulse live";
      drawChart();
    } catch (e) {
      S.failures++;
      $("pulse").className = "pulse down";
      if (S.failures >= 2) {
        var b = $("banner");
        b.textContent = "Lost contact with the cell" + (S.lastOk ? " (last answer " + ago(new Date(S.lastOk).toISOString()) + ")" : "") + ": retrying every 2 s.";
        b.hidden = false;
        $("status").className = "badge bad";
        setText("status", "unreachable");
      }
    }
    setText("updated", S.lastOk ? ago(new Date(S.lastOk).toISOString()) : "–");
    await loadPrivate();
  }

  function loop(fn, ms) {
    var run = async function () {
      try { await fn(); } finally { setTimeout(run, ms); }
    };
    void run();
  }

  $("token-form").addEventListener("submit", unlock);
  $("forget").addEventListener("click", forget);
  $("search-form").addEventListener("submit", search);
  $("chart").addEventListener("mousemove", onChartMove);
  $("chart").addEventListener("mouseleave", function () { $("chart-tip").hidden = true; });
  var resizeTimer = null;
  window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(drawChart, 100); });
  renderLegend();
  setLocked(null);
  if (S.token) void loadNamespaces();
  drawChart();
  loop(poll, POLL_MS);
  loop(loadHistory, HISTORY_MS);
})();
`;
