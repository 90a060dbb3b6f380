/** Structure of Python code by indentation: def/class ranges and control nesting per line. */
import type { Decl, Structure } from "./blocks";
import type { Line } from "./lex";
import { PY_CONTROL, PY_LOOP } from "./metrics";

interface Entry {
  indent: number;
  control: boolean;
  loop: boolean;
  decl?: Decl;
  /** The innermost def or class at or around this entry. */
  owner?: Decl;
}

const DEF = /^(?:async\s+)?def\s+(\w+)/d;
const CLASS = /^class\s+(\w+)/d;

function indentOf(s: string): number {
  let n = 0;
  for (const c of s) {
    if (c === " ") n++;
    else if (c === "\t") n += 8 - (n % 8);
    else break;
  }
  return n;
}

function bracketDelta(code: string): number {
  let d = 0;
  for (const c of code) {
    if (c === "(" || c === "[" || c === "{") d++;
    else if (c === ")" || c === "]" || c === "}") d--;
  }
  return d;
}

/** What a logical line opens: a def or class, a control block, or nothing. */
function opener(trimmed: string, lead: number, li: number, top: Entry | undefined, base: number): Omit<Entry, "indent"> | null {
  let m = DEF.exec(trimmed);
  if (m) {
    const method = top?.decl !== undefined && top.decl === top.owner && top.decl.kind === "class";
    const col = lead + (m.indices?.[1]?.[1] ?? m[0].length);
    const decl: Decl = { name: m[1]!, kind: method ? "method" : "function", col, start: li, end: li, base };
    if (method) decl.parent = top.decl!.name;
    return { control: false, loop: false, decl, owner: decl };
  }
  if ((m = CLASS.exec(trimmed))) {
    const decl: Decl = { name: m[1]!, kind: "class", col: lead + m[0].length, start: li, end: li, base };
    return { control: false, loop: false, decl, owner: decl };
  }
  if (PY_CONTROL.test(trimmed)) return { control: true, loop: PY_LOOP.test(trimmed), owner: top?.owner };
  return null;
}

export function scanPython(lines: Line[]): Structure {
  const decls: Decl[] = [];
  const depth = new Array<number>(lines.length).fill(0);
  const loops = new Array<number>(lines.length).fill(0);
  const stack: Entry[] = [];
  let brackets = 0;
  let continued = false;
  let lastCode = -1;
  let control = 0;
  let loop = 0;

  const close = (entry: Entry) => {
    if (entry.control) control--;
    if (entry.loop) loop--;
    if (entry.decl) {
      entry.decl.end = Math.max(entry.decl.start, lastCode);
      decls.push(entry.decl);
    }
  };

  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!;
    const code = line.code;
    // Only the first line of a logical line (not inside brackets, a string or after `\`) can open or close blocks.
    if (brackets === 0 && !continued && !line.inString && code.trim() !== "") {
      const indent = indentOf(code);
      while (stack.length && stack[stack.length - 1]!.indent >= indent) close(stack.pop()!);
      const opened = opener(code.trim(), code.length - code.trimStart().length, li, stack[stack.length - 1], control);
      depth[li] = control;
      loops[li] = loop;
      if (opened) {
        stack.push({ indent, ...opened });
        if (opened.control) control++;
        if (opened.loop) loop++;
      }
    } else {
      depth[li] = control;
      loops[li] = loop;
    }
    if (line.hasCode) lastCode = li;
    brackets = Math.max(0, brackets + bracketDelta(code));
    continued = code.trimEnd().endsWith("\\");
  }
  lastCode = Math.max(lastCode, 0);
  while (stack.length) close(stack.pop()!);
  return { decls, depth, loops };
}
