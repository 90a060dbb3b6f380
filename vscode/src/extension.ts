/**
 * The AIOS cell stack in VS Code: registers the bridge's /mcp for Copilot,
 * shares the live editing context, shows the stack at a glance in the status
 * bar and offers recall, remember, peers and the dashboard as commands.
 * Everything goes through the bridge (aios.bridgeUrl).
 */
import * as vscode from "vscode";
import { BridgeClient } from "./bridge";
import { registerCommands, type Services } from "./commands";
import { ContextSharer, contextOf, type EditorFacts } from "./context";
import { BridgeError } from "./http";
import { registerMcpProvider, withAiosServer } from "./mcp-provider";
import { StackPoller } from "./poller";
import { statusView, type StackState } from "./status";

const MCP_HINT_KEY = "aios.mcpHintShown";

interface Settings {
  bridgeUrl: string;
  shareContext: boolean;
  namespace: string;
  dashboardUrl: string;
}

function settings(): Settings {
  const c = vscode.workspace.getConfiguration("aios");
  return {
    bridgeUrl: c.get<string>("bridgeUrl", "http://127.0.0.1:3001"),
    shareContext: c.get<boolean>("shareContext", true),
    namespace: c.get<string>("namespace", ""),
    dashboardUrl: c.get<string>("dashboardUrl", ""),
  };
}

export function factsOf(editor: vscode.TextEditor | undefined): EditorFacts | undefined {
  if (!editor) return undefined;
  const uri = editor.document.uri;
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  const sel = editor.selection;
  return {
    scheme: uri.scheme,
    ...(folder ? { folderName: folder.name } : {}),
    relativePath: folder ? vscode.workspace.asRelativePath(uri, false) : uri.path,
    languageId: editor.document.languageId,
    selectionStartLine: sel.start.line,
    selectionEndLine: sel.end.line,
    selectionEndsAtLineStart: sel.end.character === 0,
    selectionEmpty: sel.isEmpty,
  };
}

/** A client for the configured bridge, or the reason the setting is unusable. */
function clientFor(url: string): BridgeClient | Error {
  try {
    return new BridgeClient(url);
  } catch (e) {
    return e as Error;
  }
}

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel("AIOS", { log: true });
  context.subscriptions.push(log);

  let current = settings();
  const first = clientFor(current.bridgeUrl);
  // An unusable URL is shown in the status bar; while it is, nothing is polled or shared and the commands
  // refuse with the reason. (The default only fills the variable until the setting is fixed.)
  let client = first instanceof Error ? new BridgeClient("http://127.0.0.1:3001") : first;
  let badUrl = first instanceof Error ? first.message : undefined;

  const item = vscode.window.createStatusBarItem("aios.status", vscode.StatusBarAlignment.Left, 50);
  item.name = "AIOS Cell Stack";
  item.command = "aios.openDashboard";
  context.subscriptions.push(item);

  const render = (state: StackState) => {
    const view = badUrl
      ? { text: "$(error) AIOS: bad aios.bridgeUrl", tooltip: badUrl, severity: "error" as const }
      : statusView(state);
    item.text = view.text;
    item.tooltip = new vscode.MarkdownString(view.tooltip, true);
    item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    item.show();
  };

  const sharer = new ContextSharer({
    send: (ctx) => client.putContext(ctx),
    onSent: (ctx) => log.debug(`context shared: ${JSON.stringify(ctx)}`),
    onError: (e) => {
      // Not a pop-up: the status bar says the stack is down, and the context goes out when it is back.
      log.warn(`context not shared: ${(e as Error).message}`);
      void poller.pollNow();
    },
    // Tried again: no answer, a timeout, a server error. Not: the bridge refusing the request itself (4xx).
    retryable: (e) => !(e instanceof BridgeError) || e.status === undefined || e.status >= 500 || e.status === 429,
  });
  context.subscriptions.push({ dispose: () => sharer.dispose() });
  sharer.setPaused(!!badUrl);
  // Only the focused window shares: with several windows open, the cell shows the one being worked in.
  sharer.setFocused(vscode.window.state.focused);
  void sharer.setEnabled(current.shareContext);

  const poller = new StackPoller(client, (state, previous) => {
    render(state);
    if (state.kind === "up" && previous.kind !== "up") {
      log.info(`stack answers at ${client.baseUrl}: cell ${state.health.cell_info?.cell_id ?? "?"}`);
      sharer.resend();
    } else if (state.kind === "down" && previous.kind !== "down") {
      log.info(`stack not running: ${state.reason}`);
    }
  });
  context.subscriptions.push({ dispose: () => poller.stop() });
  render(poller.state);
  if (badUrl) poller.pause();
  else void poller.pollNow();

  const shareActive = () => sharer.update(contextOf(factsOf(vscode.window.activeTextEditor)));
  context.subscriptions.push(
    vscode.window.onDidChangeActiveTextEditor(shareActive),
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (e.textEditor === vscode.window.activeTextEditor) shareActive();
    }),
    // Switching between windows fires no editor event: the focused one sends its context again.
    vscode.window.onDidChangeWindowState((w) => {
      if (w.focused) shareActive();
      sharer.setFocused(w.focused);
    }),
  );
  shareActive();

  const mcp = registerMcpProvider(vscode, () => (badUrl ? undefined : client.mcpUrl));
  if (mcp.kind === "registered") {
    log.info(`MCP server "${client.mcpUrl}" offered to VS Code through the MCP server definition provider API`);
    context.subscriptions.push(mcp);
  } else {
    log.info(`MCP provider not registered: ${mcp.reason}`);
    offerMcpJson(context, mcp.reason, () => client.mcpUrl, log).catch((e: unknown) => {
      log.error(`.vscode/mcp.json: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`AIOS: could not write .vscode/mcp.json: ${(e as Error).message}`);
    });
  }

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration("aios")) return;
      const next = settings();
      if (next.bridgeUrl !== current.bridgeUrl) {
        const made = clientFor(next.bridgeUrl);
        badUrl = made instanceof Error ? made.message : undefined;
        if (made instanceof Error) {
          log.warn(`${made.message}: not watching the stack nor sharing the context until it is fixed`);
          poller.pause();
          sharer.setPaused(true);
        } else {
          client = made;
          poller.setClient(made);
          // The new bridge's cell has nothing from this window yet: forget the old copy, then send once.
          sharer.resend();
          sharer.setPaused(false);
        }
        if (mcp.kind === "registered") mcp.refresh();
        render(poller.state);
      }
      if (next.shareContext !== current.shareContext) void sharer.setEnabled(next.shareContext);
      current = next;
    }),
  );

  const services: Services = {
    client: () => client,
    unusable: () => badUrl,
    state: () => poller.state,
    pollNow: () => poller.pollNow(),
    namespaceSetting: () => settings().namespace,
    dashboardSetting: () => settings().dashboardUrl,
    log,
  };
  registerCommands(context, services);
}

/**
 * Older VS Code: say once (per VS Code version, not per window or start) how
 * Copilot reaches the memory, and offer to write `.vscode/mcp.json`.
 */
async function offerMcpJson(
  context: vscode.ExtensionContext,
  reason: string,
  mcpUrl: () => string,
  log: vscode.LogOutputChannel,
): Promise<void> {
  const key = `${MCP_HINT_KEY}:${vscode.version}`;
  if (context.globalState.get<boolean>(key)) return;
  await context.globalState.update(key, true);
  const add = "Add to .vscode/mcp.json";
  const choice = await vscode.window.showInformationMessage(
    `AIOS: ${reason}. For Copilot to use the shared memory, add the bridge to .vscode/mcp.json: "servers": { "aios": { "type": "http", "url": "${mcpUrl()}" } }.`,
    add,
  );
  if (choice !== add) return;
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    await vscode.env.clipboard.writeText(JSON.stringify({ servers: { aios: { type: "http", url: mcpUrl() } } }, null, 2));
    void vscode.window.showInformationMessage("AIOS: no folder is open; the mcp.json content is on the clipboard.");
    return;
  }
  const file = vscode.Uri.joinPath(folder.uri, ".vscode", "mcp.json");
  let existing: string | undefined;
  try {
    existing = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
  } catch {
    existing = undefined;
  }
  const next = withAiosServer(existing, mcpUrl());
  if ("text" in next) {
    await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(next.text));
    log.info(`wrote ${file.fsPath}`);
  } else {
    void vscode.window.showWarningMessage(`AIOS: .vscode/mcp.json left as it is: ${next.unchanged}.`);
  }
  await vscode.window.showTextDocument(file);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
