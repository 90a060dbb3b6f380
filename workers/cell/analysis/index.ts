/**
 * The built-in code analyser: deterministic, no model, platform-neutral.
 * `analyze` never throws; input beyond the work caps is cut and flagged.
 */
import { collectFindings } from "./findings";
import { detectLanguage } from "./language";
import { lex, type Line } from "./lex";
import { buildOutline, structure } from "./outline";
import type { Analysis, LanguageInfo, Summary } from "./types";

export { detectLanguage, normaliseLanguage } from "./language";
export { mask, redact } from "./secrets";
export { LIMITS } from "./findings";
export * from "./types";

export const CAPS = { chars: 1_000_000, lines: 50_000, outline: 2000 } as const;

export interface AnalyzeOptions {
  language?: string;
  file?: string;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function summarise(lines: Line[]): Omit<Summary, "max_nesting" | "functions" | "classes" | "truncated"> {
  let code = 0;
  let comment = 0;
  let blank = 0;
  for (const l of lines) {
    if (l.raw.trim() === "") blank++;
    else if (l.hasCode) code++;
    else comment++;
  }
  return { lines: lines.length, code_lines: code, comment_lines: comment, blank_lines: blank };
}

export function analyze(code: string, opts: AnalyzeOptions = {}): Analysis {
  const text = typeof code === "string" ? code : "";
  const language: LanguageInfo = safeDetect(text, opts);
  let truncated = text.length > CAPS.chars;
  let lines = splitLines(truncated ? text.slice(0, CAPS.chars) : text);
  if (lines.length > CAPS.lines) {
    lines = lines.slice(0, CAPS.lines);
    truncated = true;
  }
  try {
    const lexed = lex(lines, language.language);
    const s = structure(lexed, language.language);
    const { items, params } = buildOutline(lexed, language.language, s);
    const found = collectFindings(lexed, language.language, s, items, params);
    const outline = items.length > CAPS.outline ? items.slice(0, CAPS.outline) : items;
    const summary: Summary = {
      ...summarise(lexed),
      max_nesting: s.depth.reduce((a, b) => Math.max(a, b), 0),
      functions: items.filter((i) => i.kind === "function" || i.kind === "method").length,
      classes: items.filter((i) => i.kind !== "function" && i.kind !== "method").length,
      truncated: truncated || found.truncated || items.length > CAPS.outline,
    };
    return { language, summary, outline, findings: found.findings, layer: "builtin" };
  } catch {
    // A bug in a heuristic must not cost the caller the answer; say the analysis is partial instead.
    const blank = lines.filter((l) => l.trim() === "").length;
    return {
      language,
      summary: {
        lines: lines.length,
        code_lines: lines.length - blank,
        comment_lines: 0,
        blank_lines: blank,
        max_nesting: 0,
        functions: 0,
        classes: 0,
        truncated: true,
      },
      outline: [],
      findings: [
        {
          rule: "analyser",
          severity: "info",
          line: 1,
          message: "analysis incomplete: the built-in analyser failed on this input",
        },
      ],
      layer: "builtin",
    };
  }
}

function safeDetect(text: string, opts: AnalyzeOptions): LanguageInfo {
  try {
    return detectLanguage(text, {
      language: typeof opts?.language === "string" ? opts.language : undefined,
      file: typeof opts?.file === "string" ? opts.file : undefined,
    });
  } catch {
    return { language: "unknown", confidence: 0, detected_by: "content" };
  }
}
