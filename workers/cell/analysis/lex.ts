/**
 * A small per-language lexer: for each line, the code with every string
 * literal collapsed to `""` and comments removed, plus the comment text.
 * Everything downstream (braces, keywords, bug patterns) reads the collapsed
 * code, so a brace or keyword inside a string or comment never counts.
 */
import type { KnownLanguage } from "./types";

export interface Line {
  raw: string;
  code: string;
  comment: string;
  /** The line begins inside a multi-line string (docstring, template, heredoc...). */
  inString: boolean;
  hasCode: boolean;
}

interface Quote {
  open: string;
  close: string;
  escapes: boolean;
  multiline: boolean;
}

interface Syntax {
  line: string[];
  block?: [string, string];
  quotes: Quote[];
  /** `#` starts a comment only at the start of a word (shell: `$#`, `${#x}` are not comments). */
  hashAtWordStart?: boolean;
  regexLiterals?: boolean;
  rust?: boolean;
  heredocs?: boolean;
}

const q = (open: string, escapes = true, multiline = false, close = open): Quote => ({ open, close, escapes, multiline });
const C_BLOCK: [string, string] = ["/*", "*/"];

const SYNTAX: Record<KnownLanguage | "generic", Syntax> = {
  typescript: { line: ["//"], block: C_BLOCK, quotes: [q('"'), q("'"), q("`", true, true)], regexLiterals: true },
  javascript: { line: ["//"], block: C_BLOCK, quotes: [q('"'), q("'"), q("`", true, true)], regexLiterals: true },
  python: { line: ["#"], quotes: [q('"""', true, true), q("'''", true, true), q('"'), q("'")] },
  go: { line: ["//"], block: C_BLOCK, quotes: [q('"'), q("'"), q("`", false, true)] },
  rust: { line: ["//"], block: C_BLOCK, quotes: [q('"', true, true)], rust: true },
  java: { line: ["//"], block: C_BLOCK, quotes: [q('"""', true, true), q('"'), q("'")] },
  c: { line: ["//"], block: C_BLOCK, quotes: [q('"'), q("'")] },
  cpp: { line: ["//"], block: C_BLOCK, quotes: [q('"'), q("'")] },
  shell: { line: ["#"], quotes: [q('"', true, true), q("'", false, true)], hashAtWordStart: true, heredocs: true },
  generic: { line: ["//", "#"], block: C_BLOCK, quotes: [q('"'), q("'")], hashAtWordStart: true },
};

const RUST_CHAR = /^'(?:\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|.)|[^\\'])'/;
const RUST_RAW = /^r(#*)"/;
const HEREDOC = /<<(-?)\s*(?:'(\w+)'|"(\w+)"|\\?([A-Za-z_]\w*))/;
const REGEX_AFTER_CHAR = new Set("(,=:[!&|?{};+-*%<>~^");
const REGEX_AFTER_WORD = new Set(["return", "typeof", "case", "do", "else", "in", "of", "yield", "await", "void"]);

const isWord = (c: string | undefined) => c !== undefined && /[\w$]/.test(c);

/** Whether a `/` at `i` can start a regex literal: what precedes it is an operator, a keyword or nothing. */
function regexAllowed(s: string, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && (s[j] === " " || s[j] === "\t")) j--;
  if (j < 0) return true;
  if (REGEX_AFTER_CHAR.has(s[j]!)) return true;
  let k = j;
  while (k >= 0 && j - k < 8 && /[a-z]/.test(s[k]!)) k--;
  return (k < 0 || !isWord(s[k])) && REGEX_AFTER_WORD.has(s.slice(k + 1, j + 1));
}

/** The end index (exclusive) of a regex literal starting at `i`, or -1 if this `/` is a division. */
function regexEnd(s: string, i: number): number {
  let inClass = false;
  // Regex literals are short; the cap keeps a long line of slashes linear.
  const stop = Math.min(s.length, i + 400);
  for (let j = i + 1; j < stop; j++) {
    const c = s[j];
    if (c === "\\") j++;
    else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "/" && !inClass) return j + 1;
  }
  return -1;
}

/** Carries the state that spans lines (inside a block comment, a string or a heredoc) from one line to the next. */
class Lexer {
  private readonly special: Set<string>;
  private mode: "code" | "block" | "string" = "code";
  private quote: Quote | null = null;
  private heredoc: string | null = null;
  private raw = "";
  private i = 0;
  private code = "";
  private comment = "";

  constructor(private readonly syn: Syntax) {
    // Characters that may start a comment, string or regex; anything else is copied straight through.
    this.special = new Set([...syn.line, ...(syn.block ?? []), ...syn.quotes.map((x) => x.open)].map((s) => s[0]!));
    if (syn.rust) this.special.add("'").add("r");
    if (syn.regexLiterals) this.special.add("/");
  }

  line(raw: string): Line {
    if (this.heredoc !== null) {
      if (raw.trim() === this.heredoc) this.heredoc = null;
      return { raw, code: "", comment: "", inString: true, hasCode: true };
    }
    const inString = this.mode === "string";
    this.raw = raw;
    this.i = 0;
    this.code = "";
    this.comment = "";
    while (this.i < raw.length) {
      if (this.mode === "block") this.blockComment();
      else if (this.mode === "string") this.string();
      else if (!this.token()) break;
    }
    this.endLine();
    return { raw, code: this.code, comment: this.comment, inString, hasCode: inString || this.code.trim() !== "" };
  }

  private blockComment(): void {
    const close = this.syn.block![1];
    const end = this.raw.indexOf(close, this.i);
    this.comment += this.raw.slice(this.i, end < 0 ? undefined : end);
    this.i = end < 0 ? this.raw.length : end + close.length;
    if (end >= 0) this.mode = "code";
  }

  private string(): void {
    const { raw } = this;
    const qt = this.quote!;
    while (this.i < raw.length) {
      if (qt.escapes && raw[this.i] === "\\") this.i += 2;
      else if (raw.startsWith(qt.close, this.i)) {
        this.i += qt.close.length;
        this.mode = "code";
        return;
      } else this.i++;
    }
  }

  /** Consumes one piece of code; false when a line comment took the rest of the line. */
  private token(): boolean {
    const { raw, special } = this;
    const c = raw[this.i]!;
    if (special.has(c)) {
      if (this.lineComment()) return false;
      if (this.blockStart() || this.rustLiteral(c) || this.quoteStart() || this.regexLiteral(c)) return true;
    }
    // Copy the run of ordinary characters up to the next possible comment, string or regex in one piece.
    let j = this.i + 1;
    while (j < raw.length && !special.has(raw[j]!)) j++;
    this.code += raw.slice(this.i, j);
    this.i = j;
    return true;
  }

  private lineComment(): boolean {
    const { raw, i, syn } = this;
    const marker = syn.line.find((m) => raw.startsWith(m, i));
    if (!marker) return false;
    if (marker === "#" && syn.hashAtWordStart && i > 0 && !/[\s;&|(]/.test(raw[i - 1]!)) return false;
    this.comment += raw.slice(i + marker.length);
    return true;
  }

  private blockStart(): boolean {
    const open = this.syn.block?.[0];
    if (!open || !this.raw.startsWith(open, this.i)) return false;
    this.mode = "block";
    this.i += open.length;
    return true;
  }

  private startString(quote: Quote, length: number): true {
    this.code += '""';
    this.quote = quote;
    this.mode = "string";
    this.i += length;
    return true;
  }

  /** Rust: `'x'` is a char but `'a` a lifetime; `r#"…"#` is a raw string. */
  private rustLiteral(c: string): boolean {
    if (!this.syn.rust) return false;
    const { raw, i } = this;
    if (c === "'") {
      const m = RUST_CHAR.exec(raw.slice(i, i + 12));
      this.code += m ? '""' : c;
      this.i += m ? m[0].length : 1;
      return true;
    }
    if (c !== "r" || isWord(raw[i - 1])) return false;
    const m = RUST_RAW.exec(raw.slice(i, i + 260));
    return m ? this.startString(q(m[0].slice(1), false, true, '"' + m[1]!), m[0].length) : false;
  }

  private quoteStart(): boolean {
    const qt = this.syn.quotes.find((x) => this.raw.startsWith(x.open, this.i));
    return qt ? this.startString(qt, qt.open.length) : false;
  }

  private regexLiteral(c: string): boolean {
    if (c !== "/" || !this.syn.regexLiterals || !regexAllowed(this.raw, this.i)) return false;
    const end = regexEnd(this.raw, this.i);
    if (end < 0) return false;
    this.code += '""';
    this.i = end;
    return true;
  }

  private endLine(): void {
    const { raw } = this;
    // A single-line string that never closed ends with its line, so one stray quote cannot swallow the file.
    if (this.mode === "string" && !this.quote!.multiline && !raw.endsWith("\\")) this.mode = "code";
    if (this.syn.heredocs && this.mode === "code" && this.code.includes("<<") && !raw.includes("<<<")) {
      const m = HEREDOC.exec(raw);
      if (m) this.heredoc = m[2] ?? m[3] ?? m[4] ?? null;
    }
  }
}

export function lex(lines: string[], language: string): Line[] {
  const lexer = new Lexer(SYNTAX[language as KnownLanguage] ?? SYNTAX.generic);
  return lines.map((raw) => lexer.line(raw));
}
