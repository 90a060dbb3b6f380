/**
 * GET / : the dashboard, one self-contained HTML document (inline CSS and
 * script: browser/*.ts, bundled into client.generated.ts; an SVG chart drawn
 * by the script; no libraries, no CDN, works offline). The page itself is public, like /health: it only shows what the
 * public endpoints show until the user enters the API token for messages,
 * contexts and memory search. A strict Content-Security-Policy allows only
 * same-origin requests and the inline style and script that carry this
 * response's nonce.
 */
import type { AppRequest } from "../../../lib/app";
import type { CellEnv } from "../env";
import { CLIENT_JS } from "./client.generated";
import { BODY } from "./markup";
import { STYLES } from "./styles";

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function renderPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>AIOS cell</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLES}</style>
</head>
<body>${BODY}<script nonce="${nonce}">${CLIENT_JS}</script>
</body>
</html>
`;
}

function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes));
}

export function dashboard(_req: AppRequest, _env: CellEnv): Response {
  const nonce = newNonce();
  return new Response(renderPage(nonce), {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": contentSecurityPolicy(nonce),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
    },
  });
}
