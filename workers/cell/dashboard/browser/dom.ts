/** Small DOM and formatting helpers of the dashboard's script. Every value goes into the page as text. */
const SVGNS = "http://www.w3.org/2000/svg";

/** The element with this id; the page (markup.ts) has every id the script uses. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const n = document.getElementById(id);
  if (!n) throw new Error(`the page has no #${id}`);
  return n as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string | null,
  text?: string | number | null,
): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined && text !== null) n.textContent = String(text);
  return n;
}

export function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const n = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

export function clear(n: Node): void {
  while (n.firstChild) n.removeChild(n.firstChild);
}

export function setText(id: string, v: string | number): void {
  const n = document.getElementById(id);
  if (n && n.textContent !== String(v)) n.textContent = String(v);
}

export function fixed(v: unknown, digits: number): string {
  return typeof v === "number" && isFinite(v) ? v.toFixed(digits) : "–";
}

export function count(v: unknown): string {
  return typeof v === "number" ? v.toLocaleString("en-US") : "–";
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return "never";
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (!isFinite(s)) return "–";
  if (s < 2) return "just now";
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function duration(seconds: unknown): string {
  if (typeof seconds !== "number" || !isFinite(seconds)) return "–";
  const sec = Math.round(seconds);
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s} s`;
  return `${s} s`;
}

export function lag(sec: number | null | undefined): string {
  if (sec === null || sec === undefined) return "never";
  if (sec < 10) return `${sec.toFixed(1)} s`;
  return duration(sec);
}

export function hhmm(t: number, seconds: boolean): string {
  const d = new Date(t);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}${seconds ? `:${two(d.getSeconds())}` : ""}`;
}

export interface JsonAnswer<T> {
  status: number;
  ok: boolean;
  body: T | null;
}

export async function getJson<T>(path: string, token?: string | null): Promise<JsonAnswer<T>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) headers["authorization"] = `Bearer ${token}`;
  const res = await fetch(path, { headers, cache: "no-store" });
  let body: T | null = null;
  try {
    body = (await res.json()) as T;
  } catch {
    body = null;
  }
  return { status: res.status, ok: res.ok, body };
}
