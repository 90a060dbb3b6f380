/** Which language a piece of code is in: the caller's word, then the file extension, then the content. */
import { LANGUAGES, type KnownLanguage, type LanguageInfo } from "./types";

const EXTENSIONS: Record<string, KnownLanguage> = {
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  py: "python",
  pyw: "python",
  pyi: "python",
  go: "go",
  rs: "rust",
  java: "java",
  c: "c",
  h: "c",
  cc: "cpp",
  cpp: "cpp",
  cxx: "cpp",
  "c++": "cpp",
  hh: "cpp",
  hpp: "cpp",
  hxx: "cpp",
  ino: "cpp",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
  ksh: "shell",
};

// Names callers use for the same languages, including VS Code language ids.
const ALIASES: Record<string, KnownLanguage> = {
  ts: "typescript",
  typescriptreact: "typescript",
  tsx: "typescript",
  js: "javascript",
  javascriptreact: "javascript",
  jsx: "javascript",
  node: "javascript",
  py: "python",
  python3: "python",
  golang: "go",
  rs: "rust",
  "c++": "cpp",
  cxx: "cpp",
  cc: "cpp",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
  shellscript: "shell",
};

export function normaliseLanguage(name: string): KnownLanguage | null {
  const key = name.trim().toLowerCase();
  if ((LANGUAGES as readonly string[]).includes(key)) return key as KnownLanguage;
  return ALIASES[key] ?? null;
}

export function languageFromFile(file: string): KnownLanguage | null {
  const base = file.split(/[\\/]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  if (dot < 0) return null;
  return EXTENSIONS[base.slice(dot + 1).toLowerCase()] ?? null;
}

// Weighted signals; TypeScript gets the JavaScript signals too because it is a superset,
// and wins only when something type-only shows up.
type Signal = [RegExp, number];
const SIGNALS: Record<KnownLanguage, Signal[]> = {
  python: [
    [/^\s*def \w+\s*\(.*\)\s*(->.*)?:\s*$/, 4],
    [/^\s*(from [\w.]+ )?import [\w.]+(\s+as \w+)?\s*$/, 2],
    [/^\s*class \w+(\(.*\))?:\s*$/, 4],
    [/\bself\./, 1],
    [/^\s*(elif .*|else|try|finally):\s*$/, 3],
    [/^\s*except\b.*:\s*$/, 3],
    [/__name__|__init__/, 3],
    [/^\s*@\w+/, 1],
  ],
  go: [
    [/^package \w+\s*$/, 6],
    [/^func (\([^)]*\) )?\w+\(/, 5],
    [/:=/, 1],
    [/\bfmt\.\w+\(/, 3],
    [/^import \($/, 4],
    [/\berr != nil\b/, 4],
    [/^type \w+ (struct|interface) \{/, 5],
  ],
  rust: [
    [/^\s*(pub\s+)?fn \w+/, 4],
    [/\blet mut\b/, 4],
    [/^\s*impl\b/, 4],
    [/^\s*use \w+(::\w+)+/, 3],
    [/\w+!\(/, 1],
    [/&(mut )?self\b/, 3],
    [/^\s*#\[\w+/, 3],
    [/\bOption<|\bResult<|\bVec</, 2],
  ],
  java: [
    [/^\s*(public|private|protected)\s+(static\s+)?(final\s+)?(class|interface|enum)\s+\w+/, 6],
    [/\bSystem\.(out|err)\./, 5],
    [/^import java\./, 6],
    [/^\s*(public|private|protected)\s+[\w<>[\], ]+\s+\w+\s*\(/, 2],
    [/^\s*@Override\b/, 4],
    [/^package [\w.]+;/, 5],
    [/\bnew \w+(<.*>)?\(/, 1],
  ],
  c: [
    [/^#include <\w+\.h>/, 4],
    [/\bprintf\s*\(/, 2],
    [/\bmalloc\s*\(|\bfree\s*\(/, 3],
    [/^\s*int main\s*\(/, 2],
    [/^\s*(typedef )?struct \w+/, 1],
    [/^#(define|ifdef|ifndef|endif)\b/, 2],
  ],
  cpp: [
    [/^#include <(iostream|vector|string|map|memory|algorithm|[a-z_]+)>/, 4],
    [/\bstd::/, 4],
    [/\btemplate\s*</, 4],
    [/^\s*namespace \w+/, 3],
    [/\b(cout|cerr)\s*<</, 4],
    [/^\s*class \w+\s*(:\s*(public|private)|\{)/, 2],
    [/\b(public|private|protected):\s*$/, 3],
    [/^#(define|ifdef|ifndef|endif|pragma)\b/, 1],
  ],
  javascript: [
    [/^\s*(const|let|var) [\w${},\s[\]]+=/, 2],
    [/^\s*(export\s+)?(async\s+)?function\s*\*?\s*\w*\s*\(/, 3],
    [/=>/, 1],
    [/\brequire\(|module\.exports\b/, 3],
    [/\bconsole\.\w+\(/, 2],
    [/^\s*import .* from ['"]/, 3],
    [/^\s*export (default|const|class|function)\b/, 2],
    [/===|!==/, 2],
  ],
  typescript: [
    [/:\s*(string|number|boolean|void|unknown|any|never)\b/, 3],
    [/^\s*(export\s+)?interface \w+/, 4],
    [/^\s*(export\s+)?type \w+(<.*>)?\s*=/, 4],
    [/\bas const\b|\bas \w+\b/, 1],
    [/\b(private|public|protected|readonly) \w+\s*[:;(]/, 3],
    [/<\w+(\[\])?>\(/, 1],
  ],
  shell: [
    [/^#!.*\b(ba|z|k|da)?sh\b/, 10],
    [/^\s*(if \[|then$|fi$|done$|esac$|do$)/, 4],
    [/^\s*(echo|export|local|source|cd|mkdir|rm) /, 2],
    [/\$\{?\w+\}?/, 1],
    [/^\s*set -[euxo]/, 4],
    [/^\s*\w+\(\)\s*\{/, 2],
  ],
};

const SHEBANG: [RegExp, KnownLanguage][] = [
  [/python/, "python"],
  [/\b(node|deno|bun)\b/, "javascript"],
  [/\b(ts-node|tsx)\b/, "typescript"],
  [/\b(ba|z|k|da)?sh\b/, "shell"],
];

const SAMPLE_LINES = 400;

export function languageFromContent(code: string): { language: KnownLanguage | "unknown"; confidence: number } {
  const lines = code.split("\n", SAMPLE_LINES);
  const first = lines[0] ?? "";
  if (first.startsWith("#!")) {
    for (const [re, lang] of SHEBANG) if (re.test(first)) return { language: lang, confidence: 0.9 };
  }
  const scores = new Map<KnownLanguage, number>(LANGUAGES.map((l) => [l, 0]));
  for (const raw of lines) {
    const line = raw.length > 500 ? raw.slice(0, 500) : raw;
    if (line.trim() === "") continue;
    for (const lang of LANGUAGES) {
      for (const [re, weight] of SIGNALS[lang]) if (re.test(line)) scores.set(lang, scores.get(lang)! + weight);
    }
  }
  const js = scores.get("javascript")!;
  const ts = scores.get("typescript")!;
  scores.set("typescript", ts > 0 ? ts + js : 0);
  if (ts > 0) scores.set("javascript", 0);
  // C++ is mostly C; a C++ signal moves the C score over.
  const cpp = scores.get("cpp")!;
  if (cpp > 0) {
    scores.set("cpp", cpp + scores.get("c")!);
    scores.set("c", 0);
  }
  let best: KnownLanguage | "unknown" = "unknown";
  let top = 0;
  let total = 0;
  for (const lang of LANGUAGES) {
    const s = scores.get(lang)!;
    total += s;
    if (s > top) {
      top = s;
      best = lang;
    }
  }
  if (top < 2) return { language: "unknown", confidence: 0 };
  // Share of the evidence, discounted when there is little of it; content is never certain.
  const confidence = Math.min(0.9, (top / total) * Math.min(1, top / 12));
  return { language: best, confidence: Math.round(confidence * 100) / 100 };
}

export function detectLanguage(code: string, opts: { language?: string; file?: string } = {}): LanguageInfo {
  if (opts.language && opts.language.trim() !== "") {
    const known = normaliseLanguage(opts.language);
    return known
      ? { language: known, confidence: 1, detected_by: "given" }
      : { language: opts.language.trim().toLowerCase().slice(0, 64), confidence: 0, detected_by: "given" };
  }
  const fromFile = opts.file ? languageFromFile(opts.file) : null;
  if (fromFile) return { language: fromFile, confidence: 0.95, detected_by: "extension" };
  return { ...languageFromContent(code), detected_by: "content" };
}
