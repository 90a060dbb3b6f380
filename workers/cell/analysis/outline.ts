/** Outline items with per-function figures (lines, parameters, complexity, nesting). */
import { scanBlocks, type Decl, type Structure } from "./blocks";
import type { Line } from "./lex";
import { decisions } from "./metrics";
import { scanPython } from "./python";
import type { OutlineItem } from "./types";

const MAX_PARAM_LINES = 30;
const MAX_PARAM_CHARS = 4000;

/** The text inside the first balanced `( … )` at or after `col` on line `li`, or null if there is none. */
export function paramText(lines: Line[], li: number, col: number): string | null {
  let depth = 0;
  let text = "";
  for (let k = li; k < Math.min(lines.length, li + MAX_PARAM_LINES); k++) {
    const code = lines[k]!.code;
    for (let j = k === li ? col : 0; j < code.length; j++) {
      const ch = code[j]!;
      if (depth === 0) {
        if (ch === "(") depth = 1;
        else if (ch === "{" || ch === ";") return null;
        continue;
      }
      if (ch === "(") depth++;
      else if (ch === ")" && --depth === 0) return text;
      text += ch;
      if (text.length > MAX_PARAM_CHARS) return text;
    }
    if (depth > 0) text += " ";
  }
  return depth > 0 ? text : null;
}

const SELF = /^(?:&\s*(?:'\w+\s+)?(?:mut\s+)?|mut\s+)?self\b|^this\s*[:?]|^this$/;

const OPENERS = new Set(["(", "[", "{"]);
const CLOSERS = new Set([")", "]", "}"]);
// Generic arguments (`Map<K, V>`) hold commas too; Python, Go and shell have no angle-bracket generics.
const ANGLES = new Set(["typescript", "javascript", "java", "c", "cpp", "rust"]);

/** Top-level comma-separated pieces of a parameter list. */
function topLevelParts(text: string, angles: boolean): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (let j = 0; j < text.length; j++) {
    const ch = text[j]!;
    const arrow = text[j - 1] === "=" || text[j - 1] === "-";
    if (OPENERS.has(ch) || (angles && ch === "<")) depth++;
    else if (CLOSERS.has(ch) || (angles && ch === ">" && !arrow)) depth = Math.max(0, depth - 1);
    else if (ch === "," && depth === 0) {
      parts.push(cur.trim());
      cur = "";
      continue;
    }
    cur += ch;
  }
  parts.push(cur.trim());
  return parts.filter((p) => p !== "");
}

/** The parameters, without receivers (self, this), Python's `*` and `/` markers, or C's `(void)`. */
export function splitParams(text: string, language: string, method: boolean): string[] {
  const out = topLevelParts(text, ANGLES.has(language)).filter((p) => !SELF.test(p));
  if (language === "python") {
    const named = out.filter((p) => p !== "*" && p !== "/");
    return method && /^(?:self|cls)\b/.test(named[0] ?? "") ? named.slice(1) : named;
  }
  return out.length === 1 && out[0] === "void" ? [] : out;
}

export function structure(lines: Line[], language: string): Structure {
  return language === "python" ? scanPython(lines) : scanBlocks(lines, language);
}

function isFunction(d: Decl): boolean {
  return d.kind === "function" || d.kind === "method";
}

export interface OutlineResult {
  items: OutlineItem[];
  /** Parameter texts by item index, for rules that inspect parameters (mutable defaults). */
  params: Map<number, string>;
}

export function buildOutline(lines: Line[], language: string, s: Structure): OutlineResult {
  const decls = [...s.decls].sort((a, b) => a.start - b.start || b.end - a.end || a.name.localeCompare(b.name));
  // Each line's decision points belong to the innermost function around it, so nested
  // callbacks do not inflate the complexity of the function that holds them.
  const owner = new Int32Array(lines.length).fill(-1);
  decls.forEach((d, i) => {
    if (isFunction(d)) owner.fill(i, d.start, d.end + 1);
  });
  const complexity = new Array<number>(decls.length).fill(1);
  for (let li = 0; li < lines.length; li++) {
    const o = owner[li]!;
    if (o >= 0) complexity[o]! += decisions(lines[li]!.code, language);
  }
  const params = new Map<number, string>();
  const items = decls.map((d, i): OutlineItem => {
    const item: OutlineItem = {
      name: d.name,
      kind: d.kind,
      start_line: d.start + 1,
      end_line: d.end + 1,
      lines: d.end - d.start + 1,
    };
    if (d.parent) item.parent = d.parent;
    if (!isFunction(d)) return item;
    let count = d.params;
    if (count === undefined) {
      const text = paramText(lines, d.start, d.col);
      if (text !== null) params.set(i, text);
      count = text === null ? 0 : splitParams(text, language, d.kind === "method").length;
    }
    let deepest = 0;
    for (let li = d.start; li <= d.end; li++) deepest = Math.max(deepest, s.depth[li]! - d.base);
    item.params = count;
    item.complexity = complexity[i]!;
    item.max_nesting = deepest;
    return item;
  });
  return { items, params };
}
