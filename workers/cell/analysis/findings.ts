/** Findings: TODO-style comments, likely secrets, common bug patterns per language, and size/complexity limits. */
import type { Structure } from "./blocks";
import type { Line } from "./lex";
import { findSecrets, redact } from "./secrets";
import type { Finding, OutlineItem, Severity } from "./types";

export const LIMITS = { functionLines: 80, complexity: 10, nesting: 4 } as const;
/** Pattern rules look at most this far into a line, which keeps them linear on minified or generated code. */
const RULE_CHARS = 2000;

interface LineRule {
  rule: string;
  severity: Severity;
  re: RegExp;
  message: string;
}

const JS: LineRule[] = [
  {
    rule: "eqeqeq",
    severity: "warning",
    re: /(?<![=!<>])[=!]=(?!=)(?!\s*(?:null|undefined)\b)/,
    message: "`==`/`!=` coerce types; use `===`/`!==`",
  },
  {
    rule: "no-var",
    severity: "warning",
    re: /\bvar\s+[\w$[{]/,
    message: "`var` is function-scoped and hoisted; use `let` or `const`",
  },
  {
    rule: "eval",
    severity: "warning",
    re: /(?<![\w$.])eval\s*\(|\bnew\s+Function\s*\(/,
    message: "`eval`/`new Function` run strings as code",
  },
  { rule: "console", severity: "info", re: /\bconsole\.(?:log|debug|trace)\s*\(/, message: "`console.log` left in" },
  { rule: "debugger", severity: "warning", re: /\bdebugger\b/, message: "`debugger` statement left in" },
];

const RULES: Record<string, LineRule[]> = {
  typescript: JS,
  javascript: JS,
  python: [
    {
      rule: "bare-except",
      severity: "warning",
      re: /^\s*except\s*:/,
      message: "bare `except:` also catches SystemExit and KeyboardInterrupt; name the exception",
    },
    {
      rule: "is-literal",
      severity: "warning",
      re: /\bis\s+(?:not\s+)?(?:[rRbBuUfF]{0,2}""|-?\d|\[|\{|\()/,
      message: "`is` compares identity, not value; use `==` with literals",
    },
    { rule: "eval", severity: "warning", re: /(?<![\w.])(?:eval|exec)\s*\(/, message: "`eval`/`exec` run strings as code" },
  ],
  go: [
    {
      rule: "error-discarded",
      severity: "warning",
      re: /(?:^\s*|,\s*)_\s*:?=\s*[\w.]+(?:\[[^\]]*\])?\(/,
      message: "a result (usually an error) is discarded with `_`",
    },
    {
      rule: "error-string-compare",
      severity: "warning",
      re: /\berr\.Error\(\)\s*[!=]=/,
      message: "compare errors with `errors.Is`/`errors.As`, not their text",
    },
  ],
  shell: [
    {
      rule: "unquoted-rm",
      severity: "error",
      re: /(?:^|[\s;&|(])rm\s[^;&|]*\$\{?\w/,
      message: "unquoted variable in `rm`: an empty or spaced value deletes the wrong files",
    },
    {
      rule: "unquoted-test",
      severity: "warning",
      re: /(?<!\[)\[\s+\$\{?\w+\}?\s+(?:=|==|!=|-eq|-ne|-lt|-gt|-le|-ge)\s/,
      message: "unquoted variable in `[ ]` breaks when it is empty or has spaces",
    },
    { rule: "backticks", severity: "info", re: /`/, message: "use `$(…)` instead of backticks" },
  ],
  rust: [
    { rule: "unwrap", severity: "warning", re: /\.unwrap\(\)/, message: "`.unwrap()` panics on None/Err; handle it or use `?`" },
    { rule: "unsafe", severity: "warning", re: /\bunsafe\b/, message: "`unsafe`: check the invariants it relies on" },
    {
      rule: "todo-macro",
      severity: "warning",
      re: /\b(?:todo|unimplemented)!\s*\(/,
      message: "`todo!`/`unimplemented!` panics at run time",
    },
  ],
  java: [
    {
      rule: "catch-generic",
      severity: "warning",
      re: /\bcatch\s*\(\s*(?:final\s+)?(?:Exception|Throwable|RuntimeException)\b/,
      message: "catching `Exception`/`Throwable` hides unrelated failures; catch the specific type",
    },
    {
      rule: "string-equality",
      severity: "warning",
      re: /(?:==|!=)\s*""|""\s*(?:==|!=)/,
      message: "`==` compares string references; use `.equals()`",
    },
    {
      rule: "print-stack-trace",
      severity: "info",
      re: /\.printStackTrace\s*\(\s*\)/,
      message: "`printStackTrace()` instead of logging",
    },
  ],
};

const C_RULES: LineRule[] = [
  {
    rule: "gets",
    severity: "error",
    re: /(?<![\w.>:])gets\s*\(/,
    message: "`gets` cannot be used safely (removed in C11); use `fgets`",
  },
  {
    rule: "strcpy",
    severity: "warning",
    re: /(?<![\w.>:])(?:strcpy|strcat)\s*\(/,
    message: "`strcpy`/`strcat` do not check bounds; use `snprintf` or a bounded copy",
  },
  {
    rule: "sprintf",
    severity: "warning",
    re: /(?<![\w.>:])v?sprintf\s*\(/,
    message: "`sprintf` does not check bounds; use `snprintf`",
  },
];
RULES.c = C_RULES;
RULES.cpp = C_RULES;

// `TODO:` and `TODO fix`, but not `TODO-style` or `TODOs`.
const TODO = /\b(TODO|FIXME|HACK|XXX)\b(?![-\w])(?:\([^)]*\))?:?\s*(.*)/;
const SET_E = /^\s*set\s+(?:-[a-zA-Z]*e|-o\s+errexit)|^#!.*\s-[a-zA-Z]*e\b/;

type Add = (rule: string, severity: Severity, line: number, message: string) => void;

function nextNonBlank(lines: Line[], from: number): Line | undefined {
  for (let k = from; k < Math.min(lines.length, from + 20); k++) {
    const l = lines[k]!;
    if (l.code.trim() !== "" || l.comment.trim() !== "") return l;
  }
  return undefined;
}

interface Ctx {
  lines: Line[];
  s: Structure;
  add: Add;
  /** Shell only: the script runs under `set -e`, so a failing command stops it anyway. */
  errexit: boolean;
}

/** Rules that need more than one line's code: the next line, the loop depth, or the whole file. */
type Special = (ctx: Ctx, li: number, code: string) => void;

function emptyCatch({ lines, add }: Ctx, li: number, code: string): void {
  if (!/(?<!\.)\bcatch\b/.test(code)) return;
  const oneLine = /\bcatch\b[^{]*\{\s*\}/.test(code) && lines[li]!.comment.trim() === "";
  const next = /\bcatch\b[^{]*\{\s*$/.test(code) ? nextNonBlank(lines, li + 1) : undefined;
  if (oneLine || (next && next.comment.trim() === "" && next.code.trim().startsWith("}"))) {
    add("empty-catch", "warning", li + 1, "empty `catch` swallows the error; handle it or say why it is safe");
  }
}

function exceptPass({ lines, add }: Ctx, li: number, code: string): void {
  if (!/^\s*except\b.*:\s*$/.test(code)) return;
  const next = nextNonBlank(lines, li + 1);
  if (next && next.code.trim() === "pass" && next.comment.trim() === "") {
    add("except-pass", "warning", li + 1, "`except: pass` swallows the error; handle it or say why it is safe");
  }
}

function goErrors({ lines, s, add }: Ctx, li: number, code: string): void {
  const assign = /\berr\s*:?=(?!=)/.exec(code);
  if (assign && !/\berr\b/.test(code.slice(assign.index + assign[0].length))) {
    const next = nextNonBlank(lines, li + 1);
    if (next && !/\berr\b/.test(next.code))
      add("err-unchecked", "warning", li + 1, "`err` is assigned but not checked on the next line");
  }
  if (/^\s*defer\b/.test(code) && s.loops[li]! > 0) {
    add("defer-in-loop", "warning", li + 1, "`defer` in a loop runs only when the function returns, not each iteration");
  }
}

function shellCd({ add, errexit }: Ctx, li: number, code: string): void {
  if (!errexit && /^\s*cd\b/.test(code) && !/\|\||&&/.test(code)) {
    add("cd-unchecked", "warning", li + 1, "`cd` can fail and the script goes on in the wrong folder; use `cd … || exit`");
  }
}

const SPECIAL: Record<string, Special[]> = {
  typescript: [emptyCatch],
  javascript: [emptyCatch],
  java: [emptyCatch],
  cpp: [emptyCatch],
  python: [exceptPass],
  go: [goErrors],
  shell: [shellCd],
};

function lineRules(lines: Line[], language: string, s: Structure, add: Add): void {
  const rules = RULES[language] ?? [];
  const special = SPECIAL[language] ?? [];
  const errexit = language === "shell" && lines.some((l) => SET_E.test(l.code) || SET_E.test(l.raw));
  const ctx: Ctx = { lines, s, add, errexit };
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!;
    const code = line.code.length > RULE_CHARS ? line.code.slice(0, RULE_CHARS) : line.code;
    if (code.trim() === "") continue;
    for (const r of rules) if (r.re.test(code)) add(r.rule, r.severity, li + 1, r.message);
    for (const rule of special) rule(ctx, li, code);
  }
  if (language === "shell" && !errexit && lines.filter((l) => l.code.trim() !== "").length >= 3) {
    add("missing-set-e", "info", 1, "no `set -e`: a failing command does not stop the script");
  }
}

function todos(lines: Line[], add: Add): void {
  for (let li = 0; li < lines.length; li++) {
    const comment = lines[li]!.comment;
    if (comment === "") continue;
    const m = TODO.exec(comment.length > RULE_CHARS ? comment.slice(0, RULE_CHARS) : comment);
    if (!m) continue;
    const tag = m[1]!;
    const text = redact(m[2]!.trim()).replace(/\s*\*\/\s*$/, "");
    const short = text.length > 100 ? text.slice(0, 99) + "…" : text;
    add("todo", tag === "TODO" ? "info" : "warning", li + 1, short ? `${tag}: ${short}` : tag);
  }
}

function secrets(lines: Line[], add: Add): void {
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li]!.raw;
    // Every pattern needs at least 8 characters of value; most lines are skipped by this test alone.
    if (raw.length < 12) continue;
    for (const hit of findSecrets(raw.length > 10 * RULE_CHARS ? raw.slice(0, 10 * RULE_CHARS) : raw)) {
      const where = hit.name ? ` assigned to \`${hit.name}\`` : "";
      add(
        "secret",
        "error",
        li + 1,
        `likely hard-coded ${hit.what}${where} (${hit.masked}); load it from the environment or a secret store`,
      );
    }
  }
}

function limits(items: OutlineItem[], params: Map<number, string>, language: string, add: Add): void {
  items.forEach((item, i) => {
    if (item.complexity === undefined) return;
    const what = `\`${item.name}\``;
    if (item.lines > LIMITS.functionLines) {
      add("long-function", "warning", item.start_line, `${what} is ${item.lines} lines long (over ${LIMITS.functionLines})`);
    }
    if (item.complexity > LIMITS.complexity) {
      add(
        "complexity",
        "warning",
        item.start_line,
        `${what} has cyclomatic complexity ${item.complexity} (over ${LIMITS.complexity})`,
      );
    }
    if ((item.max_nesting ?? 0) > LIMITS.nesting) {
      add(
        "deep-nesting",
        "warning",
        item.start_line,
        `${what} nests control blocks ${item.max_nesting} deep (over ${LIMITS.nesting})`,
      );
    }
    const text = params.get(i);
    if (language === "python" && text && /=\s*(?:\[|\{|(?:list|dict|set)\(\s*\))/.test(text)) {
      add(
        "mutable-default",
        "warning",
        item.start_line,
        `${what} has a mutable default argument, shared between calls; default to None`,
      );
    }
  });
}

const MAX_FINDINGS = 1000;

export function collectFindings(
  lines: Line[],
  language: string,
  s: Structure,
  items: OutlineItem[],
  params: Map<number, string>,
): { findings: Finding[]; truncated: boolean } {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  const add: Add = (rule, severity, line, message) => {
    const key = `${line}\u0000${rule}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push({ rule, severity, line, message });
  };
  todos(lines, add);
  secrets(lines, add);
  lineRules(lines, language, s, add);
  limits(items, params, language, add);
  findings.sort((a, b) => a.line - b.line || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
  return { findings: findings.slice(0, MAX_FINDINGS), truncated: findings.length > MAX_FINDINGS };
}
