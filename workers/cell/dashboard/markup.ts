/** The dashboard's static markup; the client script fills it in. Only same-origin URLs, no external assets. */
export const BODY = String.raw`
<div class="wrap">
<header class="top">
  <div class="brand">
    <svg class="mark" viewBox="0 0 40 40" aria-hidden="true">
      <circle class="orbit" cx="20" cy="20" r="15" fill="none" stroke-width="2.5"/>
      <circle class="core" cx="20" cy="20" r="7"/>
      <circle class="sat-a" cx="20" cy="5" r="3.5"/>
      <circle class="sat-b" cx="33" cy="27.5" r="3.5"/>
      <circle class="sat-c" cx="7" cy="27.5" r="3.5"/>
    </svg>
    <div>
      <div class="eyebrow">AIOS cell</div>
      <h1 id="cell-id">connecting…</h1>
    </div>
    <span id="status" class="badge neutral">connecting</span>
  </div>
  <dl class="facts">
    <div><dt>version</dt><dd id="version">–</dd></div>
    <div><dt>branch</dt><dd id="branch">–</dd></div>
    <div><dt>host</dt><dd id="hostname">–</dd></div>
    <div><dt>uptime</dt><dd id="uptime">–</dd></div>
    <div><dt>live</dt><dd><span id="pulse" class="pulse"></span><span id="updated">–</span></dd></div>
  </dl>
</header>
<div id="banner" class="banner" role="alert" hidden></div>

<main class="grid">
  <section class="card span-4" aria-labelledby="h-level">
    <div class="card-head"><h2 id="h-level">Consciousness level</h2><span class="sub" id="level-source">measured now</span></div>
    <div class="level-top">
      <svg class="ring" viewBox="0 0 120 120" aria-hidden="true">
        <circle class="track" cx="60" cy="60" r="50" fill="none" stroke-width="11"/>
        <circle id="ring-value" class="value" cx="60" cy="60" r="50" fill="none" stroke-width="11" stroke-linecap="round"
          transform="rotate(-90 60 60)" stroke-dasharray="314.16" stroke-dashoffset="314.16"/>
        <text id="ring-text" x="60" y="68" text-anchor="middle">–</text>
      </svg>
      <div>
        <div id="level" class="big" aria-label="consciousness level">–</div>
        <div id="level-note" class="level-note">waiting for the first measurement</div>
      </div>
    </div>
    <div id="primitives" class="prims"></div>
    <div class="stats">
      <div class="stat"><b id="st-peers">–</b><span>alive / known</span></div>
      <div class="stat"><b id="st-insync">–</b><span>in sync</span></div>
      <div class="stat"><b id="recent-writes">–</b><span>writes (15 min)</span></div>
      <div class="stat"><b id="st-entities">–</b><span>entities</span></div>
      <div class="stat"><b id="st-observations">–</b><span>observations</span></div>
      <div class="stat"><b id="st-messages">–</b><span>messages</span></div>
    </div>
    <div class="formula" id="formula">level = 0.30·awareness + 0.30·coherence + 0.25·adaptation + 0.15·momentum</div>
  </section>

  <section class="card span-8 chart-card" aria-labelledby="h-chart">
    <div class="card-head">
      <h2 id="h-chart">Level, last hour</h2>
      <div class="legend" id="legend"></div>
    </div>
    <div class="chart-box">
      <svg id="chart" role="img" aria-label="consciousness level and primitives over the last hour"></svg>
      <div id="chart-tip" class="tip" hidden></div>
    </div>
    <div class="sub" id="chart-source">–</div>
  </section>

  <section class="card" aria-labelledby="h-peers">
    <div class="card-head"><h2 id="h-peers">Peers and sync</h2><span class="sub" id="peers-summary">–</span></div>
    <div id="peers-empty" class="empty-state" hidden>
      <b>No peers yet</b>This cell is on its own. Set <span class="mono">AIOS_NETWORK_PEERS</span> or
      <span class="mono">AIOS_DISCOVERY_SCAN</span> (or turn on mDNS) to find the other machines.
    </div>
    <div id="peers-table" class="table-wrap">
      <table>
        <thead><tr>
          <th>cell</th><th>address</th><th>status</th><th class="right">rtt</th><th>last seen</th><th class="right">level</th>
          <th class="right">sync lag</th><th>in sync</th><th class="right">rows sent</th><th class="right">rows received</th>
        </tr></thead>
        <tbody id="peers"></tbody>
      </table>
    </div>
  </section>

  <section class="card" aria-labelledby="h-token">
    <div class="lock">
      <div>
        <h2 id="h-token">Private panels</h2>
        <p class="sub" id="token-help">Messages, contexts and memory search show content, so they need the API token
          (the file <span class="mono">data/api-token</span>, or <span class="mono">AIOS_API_TOKEN</span>). It stays in this tab only.</p>
      </div>
      <form id="token-form" class="row" autocomplete="off">
        <input id="token" type="password" placeholder="API token" aria-label="API token" spellcheck="false">
        <button id="unlock" class="primary" type="submit">Unlock</button>
      </form>
      <div id="unlocked" class="row" hidden>
        <span class="pill dot ok">unlocked for this tab</span>
        <button id="forget" class="ghost" type="button">Forget token</button>
      </div>
    </div>
    <div id="token-error" class="notice bad" role="alert" hidden></div>
  </section>

  <section class="card span-6" aria-labelledby="h-messages">
    <div class="card-head"><h2 id="h-messages">Recent messages</h2><span class="sub" id="messages-count"></span></div>
    <div id="messages" class="list"></div>
  </section>

  <section class="card span-6" aria-labelledby="h-contexts">
    <div class="card-head"><h2 id="h-contexts">Contexts</h2><span class="sub">what each cell is working on</span></div>
    <div id="contexts" class="list"></div>
  </section>

  <section class="card" aria-labelledby="h-search">
    <div class="card-head"><h2 id="h-search">Search shared memory</h2><span class="sub" id="search-summary"></span></div>
    <form id="search-form" class="row">
      <select id="search-ns" aria-label="namespace"><option value="default">default</option></select>
      <input id="search-q" class="grow" type="search" placeholder="entity, type or observation text" aria-label="search query">
      <button id="search-go" class="primary" type="submit">Search</button>
    </form>
    <div id="search-results" class="list"></div>
  </section>

  <section class="card" aria-labelledby="h-embed">
    <div class="card-head"><h2 id="h-embed">Recall by meaning: embeddings</h2><span class="sub" id="embed-summary"></span></div>
    <div id="embed" class="list"></div>
  </section>
</main>
<footer>AIOS cell stack · this page polls <span class="mono">/health</span>, <span class="mono">/consciousness</span>,
  <span class="mono">/peers</span> every 2 s</footer>
</div>
`;
