/** The plain-data shapes the built-in analyser returns (JSON-serialisable as they are). */

export const LANGUAGES = ["typescript", "javascript", "python", "go", "rust", "java", "c", "cpp", "shell"] as const;
export type KnownLanguage = (typeof LANGUAGES)[number];

export interface LanguageInfo {
  /** One of LANGUAGES, "unknown", or (when detected_by is "given") whatever the caller named. */
  language: string;
  confidence: number;
  detected_by: "extension" | "content" | "given";
}

export type OutlineKind = "function" | "method" | "class" | "interface" | "struct" | "impl" | "trait" | "enum";

export interface OutlineItem {
  name: string;
  kind: OutlineKind;
  start_line: number;
  end_line: number;
  lines: number;
  /** The enclosing class, struct, impl or receiver type, for methods. */
  parent?: string;
  /** Only for functions and methods. */
  params?: number;
  complexity?: number;
  max_nesting?: number;
}

export type Severity = "info" | "warning" | "error";

export interface Finding {
  rule: string;
  severity: Severity;
  line: number;
  message: string;
}

export interface Summary {
  lines: number;
  code_lines: number;
  comment_lines: number;
  blank_lines: number;
  /** Deepest nesting of control blocks (if/for/while/try/switch/...) anywhere in the file. */
  max_nesting: number;
  functions: number;
  classes: number;
  /** True when the input exceeded the work caps and only a prefix was analysed. */
  truncated: boolean;
}

export interface Analysis {
  language: LanguageInfo;
  summary: Summary;
  outline: OutlineItem[];
  findings: Finding[];
  layer: "builtin";
}
