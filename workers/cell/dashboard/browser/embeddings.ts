/**
 * The embedding backlog's panel (recall by meaning): state, model, pending, done and rate, from
 * GET /memory/recall/status (a private panel: the status needs the API token).
 */
import { $, clear, count, el, fixed, setText } from "./dom";

export interface EmbedStatusBody {
  state: "off" | "idle" | "working" | "failing";
  embedder: string;
  model: string | null;
  dimension: number | null;
  pending: number;
  done: number;
  rate_per_second: number;
  last_error: string | null;
  retry_in_ms: number | null;
  reason?: string;
}

let shown = "";

export function embedLocked(): void {
  shown = "";
  const box = $("embed");
  clear(box);
  box.appendChild(el("div", "locked", "Locked: enter the API token above to see the embedding backlog."));
  setText("embed-summary", "");
}

const STATE_PILL: Record<EmbedStatusBody["state"], string> = { idle: "ok", working: "warn", failing: "bad", off: "neutral" };

function stat(value: string, label: string): HTMLElement {
  const d = el("div", "stat");
  d.appendChild(el("b", null, value));
  d.appendChild(el("span", null, label));
  return d;
}

export function renderEmbed(s: EmbedStatusBody): void {
  const key = JSON.stringify(s);
  if (key === shown) return;
  shown = key;
  const box = $("embed");
  clear(box);
  const head = el("div", "row");
  head.appendChild(el("span", `pill dot ${STATE_PILL[s.state] ?? "neutral"}`, s.state));
  head.appendChild(
    el("span", "mono", s.model ? `${s.model}${s.dimension ? ` · ${s.dimension} dimensions` : ""}` : "no embedder"),
  );
  box.appendChild(head);
  if (s.state === "off") {
    box.appendChild(el("div", "locked", `Recall answers from words only: ${s.reason ?? "no embedder"}.`));
    setText("embed-summary", "off");
    return;
  }
  const stats = el("div", "stats");
  stats.appendChild(stat(count(s.pending), "pending"));
  stats.appendChild(stat(count(s.done), "embedded"));
  stats.appendChild(stat(`${fixed(s.rate_per_second, 1)}/s`, "rate (last minute)"));
  box.appendChild(stats);
  if (s.last_error) {
    const retry = s.retry_in_ms === null ? "" : ` Next try in ${Math.ceil(s.retry_in_ms / 1000)} s.`;
    box.appendChild(el("div", "notice bad", `${s.last_error}.${retry}`));
  }
  const total = s.pending + s.done;
  setText(
    "embed-summary",
    total ? `${Math.floor((100 * s.done) / total)}% of ${count(total)} rows have a vector` : "nothing to embed yet",
  );
}
