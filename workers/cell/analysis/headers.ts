/**
 * Declaration headers per language, matched on one line of collapsed code.
 * Each returns where to look for the parameter list; the block scanner then
 * ties the header to the next `{` at the same parenthesis depth.
 */
import type { OutlineKind } from "./types";

export interface Header {
  name: string;
  kind: OutlineKind;
  parent?: string;
  /** Index in the line from which the parameter list `(` is searched. */
  col: number;
  /** Set when the parameters are known without a parenthesised list (`x => ...`). */
  params?: number;
  /** An arrow function that may have an expression body: it still counts if no `{` follows. */
  expression?: boolean;
}

export interface HeaderContext {
  inFunction: boolean;
  /** The innermost open block, when it is a class, struct, impl, trait, interface or enum body. */
  container: { kind: OutlineKind; name: string } | null;
  /** The innermost open block is neither a declaration nor a control block (object literal, namespace...). */
  plainBlock: boolean;
  topLevel: boolean;
}

type Matcher = (code: string, ctx: HeaderContext) => Header | null;

const NOT_NAMES = new Set(
  "if else for while do switch case catch return function typeof new await yield super this with delete void throw try finally sizeof defined synchronized static_assert".split(
    " ",
  ),
);

/** Where the name ends: the parameter list is the first `(` after it (all patterns carry the `d` flag). */
const nameEnd = (m: RegExpExecArray, group: number) => m.indices?.[group]?.[1] ?? m.index + m[0].length;

function header(m: RegExpExecArray | null, kind: OutlineKind, group = 1, parent?: string): Header | null {
  if (!m) return null;
  const name = m[group];
  if (!name || NOT_NAMES.has(name)) return null;
  const h: Header = { name: name.slice(0, 120), kind, col: nameEnd(m, group) };
  if (parent) h.parent = parent;
  return h;
}

// ---- TypeScript / JavaScript
const JS_FUNCTION = /^\s*(?:export\s+(?:default\s+)?)?(?:declare\s+)?(?:async\s+)?function\b\s*\*?\s*([\w$]+)/d;
const JS_VAR_FN =
  /^\s*(?:export\s+)?(?:declare\s+)?(?:const|let|var)\s+([\w$]+)\s*(?::[^=]*)?=\s*(?:async\s+)?(?:(function)\b|(\()|([\w$]+)\s*=>)/d;
const JS_CLASS = /^\s*(?:export\s+(?:default\s+)?)?(?:declare\s+)?(?:abstract\s+)?class\s+([\w$]+)/d;
const TS_INTERFACE = /^\s*(?:export\s+)?(?:declare\s+)?interface\s+([\w$]+)/d;
const TS_ENUM = /^\s*(?:export\s+)?(?:declare\s+)?(?:const\s+)?enum\s+([\w$]+)/d;
const JS_METHOD =
  /^\s*(?:(?:public|private|protected|static|async|readonly|override|abstract|declare|get|set|accessor)\s+)*\*?\s*(#?[\w$]+)\s*\??\s*(?:<[^>]*>)?\s*\(/d;
const JS_PROP_FN =
  /^\s*(?:(?:public|private|protected|static|readonly|override)\s+)*(#?[\w$]+)\s*\??\s*(?::[^=]*)?[=:]\s*(?:async\s+)?(?:(function)\b|(\()|([\w$]+)\s*=>)/d;

/** A `(` after `=` is a function only if an arrow follows (or the parameter list runs on to the next line). */
function arrowOrFunction(code: string, m: RegExpExecArray): boolean {
  if (m[2] || m[4]) return true;
  const rest = code.slice(m.index + m[0].length - 1);
  let depth = 0;
  for (const c of rest) {
    if (c === "(") depth++;
    else if (c === ")") depth--;
  }
  return depth > 0 || rest.includes("=>");
}

function arrow(h: Header | null, code: string, m: RegExpExecArray): Header | null {
  if (!h) return null;
  if (m[4]) h.params = 1;
  if (!m[2] && code.includes("=>")) h.expression = true;
  return h;
}

const javascript: Matcher = (code, ctx) => {
  let m = JS_FUNCTION.exec(code);
  if (m) return header(m, "function");
  if ((m = JS_CLASS.exec(code))) return header(m, "class");
  if ((m = TS_INTERFACE.exec(code))) return header(m, "interface");
  if ((m = TS_ENUM.exec(code))) return header(m, "enum");
  if ((m = JS_VAR_FN.exec(code)) && arrowOrFunction(code, m)) return arrow(header(m, "function"), code, m);
  const parent = ctx.container?.kind === "class" ? ctx.container.name : undefined;
  if (ctx.container || ctx.plainBlock) {
    if ((m = JS_PROP_FN.exec(code)) && arrowOrFunction(code, m)) return arrow(header(m, "method", 1, parent), code, m);
    if ((m = JS_METHOD.exec(code))) return header(m, "method", 1, parent);
  }
  return null;
};

// ---- Java
const JAVA_TYPE =
  /^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|protected|static|final|abstract|sealed|non-sealed|strictfp)\s+)*(class|interface|enum|record|@interface)\s+(\w+)/d;
const JAVA_METHOD =
  /^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|protected|static|final|abstract|synchronized|native|default|strictfp)\s+)*(?:<[^>]*>\s+)?(?:[\w$.]+(?:<[^(){};=]*>)?(?:\[\])*\s+)?([A-Za-z_$][\w$]*)\s*\(/d;
const JAVA_KIND: Record<string, OutlineKind> = {
  class: "class",
  record: "class",
  interface: "interface",
  "@interface": "interface",
  enum: "enum",
};

const java: Matcher = (code, ctx) => {
  let m = JAVA_TYPE.exec(code);
  if (m) return header(m, JAVA_KIND[m[1]!] ?? "class", 2);
  if (ctx.container && !ctx.inFunction && (m = JAVA_METHOD.exec(code))) return header(m, "method", 1, ctx.container.name);
  return null;
};

// ---- C / C++
const C_TYPE =
  /^\s*(?:template\s*<.*>\s*)?(?:typedef\s+)?(class|struct|union|enum(?:\s+class)?)\s+(\w+)\s*(?:final\b\s*)?(?::(?!:)[^;{]*)?(?:\{.*)?$/d;
const C_FUNCTION =
  /^\s*(?:template\s*<.*>\s*)?(?:[\w:<>,~]+[\s*&]+)*?(~?[A-Za-z_]\w*(?:::~?[A-Za-z_]\w*)*|operator\s*[^\s(]+)\s*\(/d;
const C_KIND: Record<string, OutlineKind> = { class: "class", struct: "struct", union: "struct" };

const c: Matcher = (code, ctx) => {
  if (code.trimStart().startsWith("#")) return null;
  let m = C_TYPE.exec(code);
  if (m) return header(m, C_KIND[m[1]!] ?? "enum", 2);
  if (ctx.inFunction || !(ctx.topLevel || ctx.container || ctx.plainBlock)) return null;
  if ((m = C_FUNCTION.exec(code))) {
    const full = m[1]!;
    const cut = full.lastIndexOf("::");
    const name = cut > 0 ? full.slice(cut + 2) : full;
    if (NOT_NAMES.has(name)) return null;
    const parent = cut > 0 ? full.slice(0, cut) : ctx.container?.name;
    const h: Header = { name, kind: parent ? "method" : "function", col: nameEnd(m, 1) };
    if (parent) h.parent = parent;
    return h;
  }
  return null;
};

// ---- Go
const GO_FUNC = /^func\s+(?:\(\s*(?:\w+\s+)?\*?\s*([\w.]+)(?:\[[^\]]*\])?\s*\)\s*)?(\w+)/d;
const GO_TYPE = /^type\s+(\w+)(?:\[[^\]]*\])?\s+(struct|interface)\b/d;

const go: Matcher = (code) => {
  let m = GO_FUNC.exec(code);
  if (m) return m[1] ? header(m, "method", 2, m[1]) : header(m, "function", 2);
  if ((m = GO_TYPE.exec(code))) return header(m, m[2] === "struct" ? "struct" : "interface");
  return null;
};

// ---- Rust
const RUST_FN = /^\s*(?:pub(?:\s*\([^)]*\))?\s+)?(?:(?:const|async|unsafe|default|extern(?:\s*"")?)\s+)*fn\s+(\w+)/d;
const RUST_TYPE = /^\s*(?:pub(?:\s*\([^)]*\))?\s+)?(?:unsafe\s+)?(struct|enum|trait|union)\s+(\w+)/d;
const RUST_IMPL = /^\s*(?:unsafe\s+)?impl\b\s*(?:<(?:[^<>]|<[^<>]*>)*>)?\s*([^{]+?)\s*(?:\bwhere\b.*)?\{?\s*$/d;
const RUST_KIND: Record<string, OutlineKind> = { struct: "struct", union: "struct", enum: "enum", trait: "trait" };

const rust: Matcher = (code, ctx) => {
  let m = RUST_FN.exec(code);
  if (m) {
    const c = ctx.container;
    return c && (c.kind === "impl" || c.kind === "trait") ? header(m, "method", 1, c.name) : header(m, "function");
  }
  if ((m = RUST_TYPE.exec(code))) return header(m, RUST_KIND[m[1]!] ?? "struct", 2);
  if ((m = RUST_IMPL.exec(code))) return header(m, "impl");
  return null;
};

// ---- shell
const SH_FUNCTION = /^\s*(?:function\s+([\w.:-]+)\s*(?:\(\s*\))?|([\w.:-]+)\s*\(\s*\))\s*(?:\{|$)/d;

const shell: Matcher = (code) => {
  const m = SH_FUNCTION.exec(code);
  if (!m) return null;
  const h = header(m, "function", m[1] ? 1 : 2);
  if (h) h.params = 0;
  return h;
};

// ---- anything else: the common keywords
const GENERIC_FN = /^\s*(?:export\s+)?(?:pub\s+)?(?:async\s+)?(?:function|def|fn|func|sub|proc)\s+([\w$.]+)/d;
const GENERIC_CLASS = /^\s*(?:export\s+)?(?:public\s+)?class\s+(\w+)/d;

const generic: Matcher = (code) => header(GENERIC_FN.exec(code), "function") ?? header(GENERIC_CLASS.exec(code), "class");

const MATCHERS: Record<string, Matcher> = {
  typescript: javascript,
  javascript,
  java,
  c,
  cpp: c,
  go,
  rust,
  shell,
};

export function matchHeader(language: string, code: string, ctx: HeaderContext): Header | null {
  return (MATCHERS[language] ?? generic)(code, ctx);
}
