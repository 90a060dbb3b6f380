/**
 * The token-protected panels: messages, every cell's context, memory search and the embedding backlog. The token the user
 * enters is kept in sessionStorage and sent only to this cell.
 */
import { $, ago, clear, count, el, getJson, setText, type JsonAnswer } from "./dom";
import { embedLocked, renderEmbed, type EmbedStatusBody } from "./embeddings";
import { S, type ErrorBody } from "./state";

const TOKEN_KEY = "aios-api-token";

export function restoreToken(): void {
  try {
    S.token = sessionStorage.getItem(TOKEN_KEY);
  } catch {
    S.token = null;
  }
}

export function setLocked(message: string | null): void {
  const unlocked = !!S.token;
  $("token-form").hidden = unlocked;
  $("unlocked").hidden = !unlocked;
  const err = $("token-error");
  err.hidden = !message;
  err.textContent = message ?? "";
  if (!unlocked) {
    S.privateKey = { messages: "", contexts: "" };
    for (const id of ["messages", "contexts", "search-results"]) {
      const box = $(id);
      clear(box);
      box.appendChild(
        el(
          "div",
          "locked",
          id === "search-results"
            ? "Enter the API token above to search the shared memory."
            : `Locked: enter the API token above to see ${id === "messages" ? "the messages between cells." : "every cell's editing context."}`,
        ),
      );
    }
    setText("messages-count", "");
    setText("search-summary", "");
    embedLocked();
  }
}

function refused(r: JsonAnswer<ErrorBody>): void {
  S.token = null;
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // private mode
  }
  const why = r.body?.error ?? "the token is not valid";
  setLocked(`The cell refused the token (401 Unauthorized): ${why}. Enter the token from data/api-token.`);
}

function contentText(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

interface Message {
  from_cell: string;
  to_cell?: string | null;
  message_type: string;
  priority: unknown;
  timestamp: string;
  content: unknown;
}

interface MessagesBody extends ErrorBody {
  messages: Message[];
  count: number;
  total: number;
}

function renderMessages(body: MessagesBody): void {
  const key = JSON.stringify(body.messages);
  setText("messages-count", `${count(body.count)} of ${count(body.total)}`);
  if (key === S.privateKey.messages) return;
  S.privateKey.messages = key;
  const box = $("messages");
  clear(box);
  if (!body.messages.length) {
    box.appendChild(el("div", "locked", "No messages yet."));
    return;
  }
  for (const msg of body.messages) {
    const item = el("div", "item message");
    const head = el("div", "item-head");
    head.appendChild(el("b", null, msg.from_cell + (msg.to_cell ? ` → ${msg.to_cell}` : "")));
    head.appendChild(el("span", "pill", msg.message_type));
    const pr = String(msg.priority);
    if (pr !== "normal") {
      head.appendChild(el("span", `pill ${pr === "high" || pr === "urgent" || Number(pr) >= 7 ? "bad" : "neutral"}`, pr));
    }
    const time = el("span", null, ago(msg.timestamp));
    time.title = msg.timestamp;
    head.appendChild(time);
    item.appendChild(head);
    item.appendChild(el("div", "item-body", contentText(msg.content)));
    box.appendChild(item);
  }
}

interface CellContext {
  cell_id: string;
  updated_at: string;
  context?: Record<string, unknown> | null;
}

interface ContextsBody extends ErrorBody {
  contexts: CellContext[];
}

function renderContexts(body: ContextsBody): void {
  const key = JSON.stringify(body.contexts);
  if (key === S.privateKey.contexts) return;
  S.privateKey.contexts = key;
  const box = $("contexts");
  clear(box);
  if (!body.contexts.length) {
    box.appendChild(el("div", "locked", "No cell has shared its context yet."));
    return;
  }
  for (const cx of body.contexts) {
    const item = el("div", "item context");
    const head = el("div", "item-head");
    head.appendChild(el("b", null, cx.cell_id));
    if (cx.cell_id === S.cellId) head.appendChild(el("span", "pill", "this cell"));
    const time = el("span", null, `updated ${ago(cx.updated_at)}`);
    time.title = cx.updated_at;
    head.appendChild(time);
    item.appendChild(head);
    const dl = el("dl", "kv");
    for (const [k, value] of Object.entries(cx.context ?? {})) {
      let v = value;
      if (k === "selection" && v && typeof v === "object" && "start_line" in v) {
        const sel = v as { start_line: unknown; end_line: unknown };
        v = `lines ${String(sel.start_line)}–${String(sel.end_line)}`;
      }
      dl.appendChild(el("dt", null, k));
      dl.appendChild(el("dd", k === "file" ? "mono" : null, typeof v === "string" ? v : contentText(v)));
    }
    item.appendChild(dl);
    box.appendChild(item);
  }
}

export async function loadNamespaces(): Promise<void> {
  const r = await getJson<{ namespaces?: string[] } & ErrorBody>("/memory", S.token);
  if (r.status === 401) return refused(r);
  if (!r.ok || !r.body) return;
  const list = (r.body.namespaces ?? []).slice();
  if (!list.includes("default")) list.unshift("default");
  const key = list.join(",");
  if (key === S.namespaces) return;
  S.namespaces = key;
  const sel = $<HTMLSelectElement>("search-ns");
  const cur = sel.value;
  clear(sel);
  for (const ns of list) {
    const o = el("option", null, ns);
    o.value = ns;
    sel.appendChild(o);
  }
  sel.value = list.includes(cur) ? cur : "default";
}

export async function loadPrivate(): Promise<void> {
  if (!S.token) return;
  try {
    const [messages, contexts, embed] = await Promise.all([
      getJson<MessagesBody>("/messages?limit=20", S.token),
      getJson<ContextsBody>("/context", S.token),
      getJson<EmbedStatusBody & ErrorBody>("/memory/recall/status", S.token),
    ]);
    if (messages.status === 401) return refused(messages);
    if (contexts.status === 401) return refused(contexts);
    if (messages.ok && messages.body) renderMessages(messages.body);
    if (contexts.ok && contexts.body) renderContexts(contexts.body);
    if (embed.ok && embed.body) renderEmbed(embed.body);
  } catch {
    // shown by the public poll
  }
}

function highlight(text: string, q: string): HTMLSpanElement {
  const span = el("span");
  const lower = text.toLowerCase();
  const ql = q.toLowerCase();
  if (!ql) {
    span.textContent = text;
    return span;
  }
  let i = 0;
  for (let guard = 0; guard < 200; guard++) {
    const j = lower.indexOf(ql, i);
    if (j < 0) break;
    span.appendChild(document.createTextNode(text.slice(i, j)));
    span.appendChild(el("mark", null, text.slice(j, j + q.length)));
    i = j + q.length;
  }
  span.appendChild(document.createTextNode(text.slice(i)));
  return span;
}

interface Entity {
  name: string;
  entityType: string;
  observations?: string[];
}

interface Relation {
  from: string;
  to: string;
  relationType: string;
}

interface SearchBody extends ErrorBody {
  entities?: Entity[];
  relations?: Relation[];
}

function entityItem(e: Entity, rels: Relation[], q: string): HTMLElement {
  const item = el("div", "item entity");
  item.setAttribute("data-entity", e.name);
  const head = el("div", "item-head");
  const name = el("b");
  name.appendChild(highlight(e.name, q));
  head.appendChild(name);
  head.appendChild(el("span", "pill", e.entityType));
  item.appendChild(head);
  const ul = el("ul", "obs");
  const observations = e.observations ?? [];
  for (const o of observations.slice(0, 8)) {
    const li = el("li");
    li.appendChild(highlight(o, q));
    ul.appendChild(li);
  }
  if (observations.length > 8) ul.appendChild(el("li", "muted", `… ${observations.length - 8} more`));
  item.appendChild(ul);
  const mine = rels.filter((x) => x.from === e.name || x.to === e.name);
  if (mine.length) {
    const rl = el("div", "sub");
    rl.textContent = mine
      .slice(0, 6)
      .map((x) => `${x.from} ${x.relationType} ${x.to}`)
      .join(" · ");
    item.appendChild(rl);
  }
  return item;
}

export async function search(ev: Event): Promise<void> {
  ev.preventDefault();
  const box = $("search-results");
  if (!S.token) {
    setLocked("Enter the API token first: memory search needs it.");
    return;
  }
  const q = $<HTMLInputElement>("search-q").value.trim();
  const ns = $<HTMLSelectElement>("search-ns").value || "default";
  if (!q) {
    setText("search-summary", "type something to search for");
    return;
  }
  setText("search-summary", "searching…");
  const r = await getJson<SearchBody>(
    `/memory/search_nodes?limit=20&namespace=${encodeURIComponent(ns)}&query=${encodeURIComponent(q)}`,
    S.token,
  );
  if (r.status === 401) return refused(r);
  clear(box);
  if (!r.ok || !r.body) {
    setText("search-summary", "");
    box.appendChild(el("div", "notice bad", r.body?.error ?? `search failed (${r.status})`));
    return;
  }
  const ents = r.body.entities ?? [];
  const rels = r.body.relations ?? [];
  setText(
    "search-summary",
    `${ents.length} entit${ents.length === 1 ? "y" : "ies"}, ${rels.length} relation${rels.length === 1 ? "" : "s"} in ${ns}`,
  );
  if (!ents.length) box.appendChild(el("div", "locked", `Nothing in “${ns}” matches “${q}”.`));
  for (const e of ents) box.appendChild(entityItem(e, rels, q));
  void loadNamespaces();
}

export async function unlock(ev: Event): Promise<void> {
  ev.preventDefault();
  const input = $<HTMLInputElement>("token");
  const t = input.value.trim();
  if (!t) {
    setLocked("Enter the API token (it is in data/api-token).");
    return;
  }
  const r = await getJson<ErrorBody>("/messages?limit=1", t);
  if (r.status === 401) {
    input.value = "";
    return refused(r);
  }
  S.token = t;
  try {
    sessionStorage.setItem(TOKEN_KEY, t);
  } catch {
    // kept in memory only
  }
  input.value = "";
  setLocked(null);
  clear($("search-results"));
  void loadPrivate();
  void loadNamespaces();
}

export function forget(): void {
  S.token = null;
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // private mode
  }
  setLocked(null);
}
