/**
 * DNS-rebinding and cross-site defence: the bridge answers only loopback host
 * names, and only browser origins that are VS Code's own.
 */
import { HttpError } from "../../lib/errors";

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;
const VSCODE_ORIGIN = /^(vscode-webview|vscode-file):\/\//i;

export function checkOrigin(request: Request): void {
  const host = request.headers.get("host") ?? new URL(request.url).host;
  if (!LOOPBACK_HOST.test(host)) {
    throw new HttpError(403, `host "${host}" is not a loopback name; the bridge only answers localhost`);
  }
  const origin = request.headers.get("origin");
  if (origin && origin !== "null" && !VSCODE_ORIGIN.test(origin)) {
    throw new HttpError(
      403,
      `origin "${origin}" is not allowed; only VS Code (vscode-webview://, vscode-file://) may call the bridge from a browser context`,
    );
  }
}
