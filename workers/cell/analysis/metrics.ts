/** Per-line figures read from the collapsed code: decision points, control-block openers, loops. */

// Decision points per language family, counted on code with strings and comments removed.
// `?` is the ternary where one exists (not `?.`, `?:` optional members, or Rust's `?` operator).
const DECISIONS: Record<string, RegExp> = {
  typescript: /\b(?:if|for|while|case|catch)\b|&&|\|\||\?\?|\?(?![.:?])/g,
  javascript: /\b(?:if|for|while|case|catch)\b|&&|\|\||\?\?|\?(?![.:?])/g,
  java: /\b(?:if|for|while|case|catch)\b|&&|\|\||(?<!<)\?(?![.:?>,])/g,
  c: /\b(?:if|for|while|case)\b|&&|\|\||\?(?![.:?])/g,
  cpp: /\b(?:if|for|while|case|catch)\b|&&|\|\||\?(?![.:?])/g,
  go: /\b(?:if|for|case)\b|&&|\|\|/g,
  rust: /\b(?:if|for|while|loop)\b|=>|&&|\|\|/g,
  python: /\b(?:if|elif|for|while|except|and|or)\b|^\s*case\b/g,
  shell: /\b(?:if|elif|for|while|until)\b|&&|\|\||;;/g,
  generic: /\b(?:if|elif|for|while|case|catch|except)\b|&&|\|\|/g,
};

export function decisions(code: string, language: string): number {
  if (code.length < 2) return 0;
  const re = DECISIONS[language] ?? DECISIONS.generic!;
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(code) !== null) n++;
  return n;
}

// A `{` whose statement contains one of these opens a control block (counts for nesting).
const CONTROL: Record<string, RegExp> = {
  go: /\b(?:if|else|for|switch|select)\b/,
  rust: /\b(?:if|else|for|while|loop|match)\b/,
  generic: /\b(?:if|else|for|while|do|switch|try|catch|finally)\b/,
};
const LOOP = /\b(?:for|while|loop|do)\b/;

export function controlOpener(statement: string, language: string): { control: boolean; loop: boolean } {
  const control = (CONTROL[language] ?? CONTROL.generic!).test(statement);
  return { control, loop: control && LOOP.test(statement) };
}

export const PY_CONTROL = /^(?:if|elif|else|for|while|try|except|finally|with|async\s+for|async\s+with)\b|^match\s+[^=]*:\s*$/;
export const PY_LOOP = /^(?:async\s+)?(?:for|while)\b/;

// Shell blocks open and close with keywords, not braces.
const SH_OPEN = /(?:^|[;&|(]|\b(?:then|do|else))\s*(?:if|for|while|until|case|select)\b/g;
const SH_CLOSE = /(?:^|[;&|\s])(?:fi|done|esac)\b/g;
const SH_LOOP_OPEN = /(?:^|[;&|(]|\b(?:then|do|else))\s*(?:for|while|until|select)\b/g;
const SH_LOOP_CLOSE = /(?:^|[;&|\s])done\b/g;

const count = (re: RegExp, s: string) => {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(s) !== null) n++;
  return n;
};

export function shellDelta(code: string): { open: number; close: number; loopOpen: number; loopClose: number } {
  return {
    open: count(SH_OPEN, code),
    close: count(SH_CLOSE, code),
    loopOpen: count(SH_LOOP_OPEN, code),
    loopClose: count(SH_LOOP_CLOSE, code),
  };
}
