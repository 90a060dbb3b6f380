/**
 * Structure of brace languages (and shell functions): which declarations open
 * which blocks and where they close, and how deeply control blocks nest on
 * each line. Reads only collapsed code, so strings and comments never count.
 */
import { matchHeader, type Header, type HeaderContext } from "./headers";
import type { Line } from "./lex";
import { controlOpener, shellDelta } from "./metrics";

export interface Decl extends Header {
  /** 0-based line indexes. */
  start: number;
  end: number;
  /** Control depth around the declaration, subtracted to get its own nesting. */
  base: number;
}

export interface Structure {
  decls: Decl[];
  /** Control-block depth reached on each line. */
  depth: number[];
  /** Loops open on each line. */
  loops: number[];
}

interface Block {
  decl?: Decl;
  control: boolean;
  loop: boolean;
  parenDepth: number;
}

interface Pending {
  header: Header;
  line: number;
  parenDepth: number;
  stackLen: number;
  /** Set once the header's parameter list has closed without a `{`; the next line must continue it. */
  closedAt: number;
  base: number;
}

// A line that may continue a declaration whose `{` has not come yet (Allman braces, return types, base lists...).
const CONTINUES =
  /^(?:\{|:|->|=>|,|\||&|\)|throws\b|where\b|const\b|noexcept\b|override\b|final\b|extends\b|implements\b|requires\b)/;
const FUNCTION_KINDS = new Set(["function", "method"]);
const STATEMENT_TAIL = 160;
/** Header patterns look at most this far into a line, which keeps them linear on minified code. */
const HEADER_CHARS = 2000;

class BlockScanner {
  private readonly decls: Decl[] = [];
  private readonly depth: number[];
  private readonly loops: number[];
  private readonly stack: Block[] = [];
  private readonly shell: boolean;
  private pending: Pending | null = null;
  private parenDepth = 0;
  private control = 0;
  private loop = 0;
  private functionsOpen = 0;
  private statement = "";
  private lastCode = 0;
  // The deepest control and loop nesting reached on the current line.
  private lineMax = 0;
  private lineLoops = 0;

  constructor(
    private readonly lines: Line[],
    private readonly language: string,
  ) {
    this.depth = new Array<number>(lines.length).fill(0);
    this.loops = new Array<number>(lines.length).fill(0);
    this.shell = language === "shell";
  }

  scan(): Structure {
    for (let li = 0; li < this.lines.length; li++) this.line(li);
    // A pending arrow, and blocks still open at the end (truncated or unbalanced input), end at the last line of code.
    if (this.pending) this.drop(this.lastCode);
    for (const block of this.stack) {
      if (block.decl) {
        block.decl.end = this.lastCode;
        this.decls.push(block.decl);
      }
    }
    return { decls: this.decls, depth: this.depth, loops: this.loops };
  }

  private line(li: number): void {
    const code = this.lines[li]!.code;
    const trimmed = code.trim();
    this.lineMax = this.control;
    this.lineLoops = this.loop;
    if (trimmed !== "") {
      this.lastCode = li;
      this.header(li, code, trimmed);
      if (this.shell) this.shellKeywords(code);
      this.characters(li, code);
      const p = this.pending;
      if (p && p.closedAt < 0 && this.parenDepth <= p.parenDepth) p.closedAt = li;
    }
    this.depth[li] = Math.max(this.lineMax, this.control);
    this.loops[li] = Math.max(this.lineLoops, this.loop);
  }

  private header(li: number, code: string, trimmed: string): void {
    const p = this.pending;
    if (p && p.closedAt >= 0 && (li - p.closedAt > 3 || !CONTINUES.test(trimmed))) this.drop(p.closedAt);
    if (this.pending && li - this.pending.line > 40) this.pending = null;
    // Inside an open parameter list (multi-line signatures, call arguments) nothing starts a declaration.
    if (this.parenDepth > 0) return;
    const header = matchHeader(this.language, code.length > HEADER_CHARS ? code.slice(0, HEADER_CHARS) : code, this.context());
    if (!header) return;
    if (this.pending) this.drop(this.pending.closedAt >= 0 ? this.pending.closedAt : li - 1);
    this.pending = {
      header,
      line: li,
      parenDepth: this.parenDepth,
      stackLen: this.stack.length,
      closedAt: -1,
      base: this.control,
    };
  }

  private context(): HeaderContext {
    const top = this.stack[this.stack.length - 1];
    const topDecl = top?.decl;
    return {
      inFunction: this.functionsOpen > 0,
      container: topDecl && !FUNCTION_KINDS.has(topDecl.kind) ? { kind: topDecl.kind, name: topDecl.name } : null,
      plainBlock: top !== undefined && !top.decl && !top.control,
      topLevel: top === undefined,
    };
  }

  /** Shell blocks open and close with keywords (if/fi, do/done, case/esac), not braces. */
  private shellKeywords(code: string): void {
    const d = shellDelta(code);
    this.lineMax = this.control + d.open;
    this.lineLoops = this.loop + d.loopOpen;
    this.control = Math.max(0, this.control + d.open - d.close);
    this.loop = Math.max(0, this.loop + d.loopOpen - d.loopClose);
  }

  private characters(li: number, code: string): void {
    for (let j = 0; j < code.length; j++) {
      const ch = code[j]!;
      if (ch === "(") this.parenDepth++;
      else if (ch === ")") this.parenDepth = Math.max(0, this.parenDepth - 1);
      // Go's `for i := 0; i < n; i++ {` has bare semicolons inside the header, so they do not end its statement.
      else if (ch === ";" && this.parenDepth === 0 && this.language !== "go") this.semicolon(li);
      else if (ch === "{") this.open();
      else if (ch === "}") this.close(li);
      if (ch !== ";" && ch !== "{" && ch !== "}") this.statement += ch;
    }
    if (this.statement.length > STATEMENT_TAIL) this.statement = this.statement.slice(-STATEMENT_TAIL);
    this.statement += " ";
  }

  private atPendingLevel(): boolean {
    const p = this.pending;
    return p !== null && this.parenDepth === p.parenDepth && this.stack.length === p.stackLen;
  }

  private semicolon(li: number): void {
    if (this.atPendingLevel() && this.pending!.parenDepth === 0) this.drop(li);
    this.statement = "";
  }

  private open(): void {
    const block: Block = { control: false, loop: false, parenDepth: this.parenDepth };
    if (this.atPendingLevel()) {
      const p = this.pending!;
      block.decl = { ...p.header, start: p.line, end: p.line, base: this.control };
      if (FUNCTION_KINDS.has(block.decl.kind)) this.functionsOpen++;
      this.pending = null;
    } else if (!this.shell) {
      const kind = controlOpener(this.statement, this.language);
      block.control = kind.control;
      block.loop = kind.loop;
      if (kind.control) this.lineMax = Math.max(this.lineMax, ++this.control);
      if (kind.loop) this.lineLoops = Math.max(this.lineLoops, ++this.loop);
    }
    this.stack.push(block);
    this.parenDepth = 0;
    this.statement = "";
  }

  private close(li: number): void {
    const block = this.stack.pop();
    if (block) {
      this.parenDepth = block.parenDepth;
      if (block.control) this.control--;
      if (block.loop) this.loop--;
      if (block.decl) {
        if (FUNCTION_KINDS.has(block.decl.kind)) this.functionsOpen--;
        block.decl.end = li;
        this.decls.push(block.decl);
      }
    }
    if (this.pending && this.stack.length < this.pending.stackLen) this.drop(li);
    this.statement = "";
  }

  /** A header that never got its `{`: an expression-bodied arrow still counts, anything else was not a declaration. */
  private drop(end: number): void {
    const p = this.pending;
    if (p?.header.expression) this.decls.push({ ...p.header, start: p.line, end: Math.max(p.line, end), base: p.base });
    this.pending = null;
  }
}

export function scanBlocks(lines: Line[], language: string): Structure {
  return new BlockScanner(lines, language).scan();
}
