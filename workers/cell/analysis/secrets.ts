/**
 * Likely hard-coded credentials. Every pattern has bounded repetition so a
 * long line stays linear, and nothing here ever returns a secret's value:
 * findings and redacted text carry a masked prefix only.
 */

interface SecretRule {
  what: string;
  re: RegExp;
  /** The capture group holding the value; the whole match otherwise. */
  group?: number;
}

const RULES: SecretRule[] = [
  { what: "private key block", re: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g },
  { what: "AWS access key id", re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/g },
  {
    what: "AWS secret access key",
    re: /\baws_?secret_?(?:access_?)?key(?:_id)?["']?\s*(?::=|[:=]|=>)\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi,
    group: 1,
  },
  { what: "GitHub token", re: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b/g },
  { what: "GitHub token", re: /\bgithub_pat_[A-Za-z0-9_]{22,255}/g },
  { what: "Slack token", re: /\bxox[abpr]-[A-Za-z0-9-]{10,250}/g },
  { what: "Google API key", re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { what: "Stripe live key", re: /\b[sr]k_live_[0-9A-Za-z]{16,247}/g },
  { what: "JSON Web Token", re: /\beyJ[A-Za-z0-9_-]{8,2000}\.eyJ[A-Za-z0-9_-]{8,4000}\.[A-Za-z0-9_-]{8,2000}/g },
];

// `password = "…"`, `apiKey: '…'`, `GITHUB_TOKEN="…"`, `secret => "…"`: a credential-like name assigned a literal.
const ASSIGNMENT =
  /\b([\w.-]{0,40}?(?:password|passwd|pwd|secret|token|api_?key|apikey|access_?key|auth_?key|private_?key)[\w-]{0,20})["']?\s*(?::=|[:=]|=>)\s*(["'`])([^"'`\s]{8,200})\2/gi;
const PLACEHOLDER = /^(?:\$\{|\{\{|<|%|\$\w)|changeme|example|placeholder|your[_-]|dummy|redacted|sample|xxxx|\*\*\*\*/i;
const PRIVATE_KEY_BODY = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----[\s\S]{0,20000}?-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----/g;

/** A short prefix and an ellipsis; short values show less so a prefix never gives most of one away. */
export function mask(value: string): string {
  const show = value.length >= 16 ? 4 : value.length >= 8 ? 2 : 0;
  return value.slice(0, show) + "…";
}

/** Real credentials mix character kinds; `auth_token` or `password_input` as a value is a name, not a secret. */
function looksSecret(value: string): boolean {
  if (PLACEHOLDER.test(value)) return false;
  let kinds = 0;
  if (/[a-z]/.test(value)) kinds++;
  if (/[A-Z]/.test(value)) kinds++;
  if (/[0-9]/.test(value)) kinds++;
  if (/[^\w.-]/.test(value)) kinds++;
  return kinds >= 2 && !/^(.)\1*$/.test(value);
}

export interface SecretHit {
  what: string;
  masked: string;
  name?: string;
}

export function findSecrets(line: string): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const rule of RULES) {
    rule.re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = rule.re.exec(line)) !== null) {
      const value = m[rule.group ?? 0] ?? m[0];
      hits.push({ what: rule.what, masked: rule.what === "private key block" ? "-----BEGIN …" : mask(value) });
    }
  }
  if (hits.length > 0) return hits;
  ASSIGNMENT.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ASSIGNMENT.exec(line)) !== null) {
    const value = m[3]!;
    if (looksSecret(value)) hits.push({ what: "credential literal", masked: mask(value), name: m[1]!.slice(0, 60) });
  }
  return hits;
}

/** The text with every likely secret replaced by its mask (for anything that leaves the cell, such as model prompts). */
export function redact(text: string): string {
  let out = text.replace(PRIVATE_KEY_BODY, "[private key redacted]");
  for (const rule of RULES) {
    out = out.replace(rule.re, (whole: string, ...groups: unknown[]) => {
      const value = rule.group ? groups[rule.group - 1] : whole;
      return typeof value === "string" ? whole.replace(value, () => mask(value)) : whole;
    });
  }
  return out.replace(ASSIGNMENT, (whole: string, _name: string, _q: string, value: string) =>
    looksSecret(value) ? whole.replace(value, () => mask(value)) : whole,
  );
}
