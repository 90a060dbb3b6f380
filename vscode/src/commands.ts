/** The commands: Recall…, Remember Selection, Show Peers, Open Dashboard. One message per failed command, never more. */
import * as vscode from "vscode";
import { dashboardUrl, type BridgeClient } from "./bridge";
import { BridgeError } from "./http";
import { hitDocument, hitInsertText, pickItem, recall, type RecallHit } from "./recall";
import { entityNames, namespaceOf, observationOf, remember } from "./remember";
import type { StackState } from "./status";
import { formatLevel, peerCounts } from "./status";

export interface Services {
  client(): BridgeClient;
  state(): StackState;
  pollNow(): Promise<void>;
  namespaceSetting(): string;
  dashboardSetting(): string;
  log: vscode.LogOutputChannel;
}

const RECALL_SCHEME = "aios-recall";

/** Recalled entities, shown as read-only documents (a virtual document cannot be edited or saved). */
class RecallDocuments implements vscode.TextDocumentContentProvider {
  private readonly docs = new Map<string, string>();
  private n = 0;
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? "This recalled entity is no longer held; recall it again.";
  }
  add(name: string, text: string): vscode.Uri {
    const safe = name.replace(/[^\p{L}\p{N}._ -]+/gu, "_").slice(0, 80) || "entity";
    const uri = vscode.Uri.from({ scheme: RECALL_SCHEME, path: `/${safe}.md`, query: String(++this.n) });
    this.docs.set(uri.toString(), text);
    // Keep the last 50 only: they are small, but a long session should not hold every answer.
    if (this.docs.size > 50) this.docs.delete(this.docs.keys().next().value!);
    return uri;
  }
}

function folderNameOf(editor: vscode.TextEditor | undefined): string | undefined {
  const folder = editor ? vscode.workspace.getWorkspaceFolder(editor.document.uri) : vscode.workspace.workspaceFolders?.[0];
  return folder?.name ?? vscode.workspace.workspaceFolders?.[0]?.name;
}

async function failed(s: Services, what: string, e: unknown): Promise<void> {
  const err = e as Error;
  s.log.error(`${what}: ${err.message}`);
  if (e instanceof BridgeError && !e.reachable) {
    void s.pollNow();
    await vscode.window.showErrorMessage(`AIOS: ${what}: ${err.message}. Start the stack with \`npm start\`.`);
  } else {
    await vscode.window.showErrorMessage(`AIOS: ${what}: ${err.message}`);
  }
}

async function recallCommand(s: Services, docs: RecallDocuments): Promise<void> {
  const target = vscode.window.activeTextEditor;
  const namespace = namespaceOf(s.namespaceSetting(), folderNameOf(target));
  const query = await vscode.window.showInputBox({
    title: "AIOS: Recall",
    prompt: `Ask the shared memory${namespace ? ` (namespace ${namespace})` : ""}`,
    placeHolder: "e.g. how do we sign requests between cells?",
    ignoreFocusOut: true,
  });
  if (!query?.trim()) return;
  let answer;
  try {
    answer = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: "AIOS: recalling…" }, () =>
      recall(s.client().mcp, query.trim(), namespace),
    );
  } catch (e) {
    return failed(s, "recall failed", e);
  }
  if (answer.note) s.log.info(answer.note);
  if (!answer.hits.length) {
    void vscode.window.showInformationMessage(
      `AIOS: nothing in the memory${namespace ? ` (namespace ${namespace})` : ""} matches “${query.trim()}”.${answer.note ? ` ${answer.note}` : ""}`,
    );
    return;
  }
  const insert: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon("insert"), tooltip: "Insert at the cursor" };
  type Item = vscode.QuickPickItem & { hit: RecallHit };
  const pick = vscode.window.createQuickPick<Item>();
  pick.title =
    answer.via === "recall"
      ? `AIOS recall: ${answer.hits.length} for “${query.trim()}”`
      : `AIOS: ${answer.hits.length} found by search_nodes (no recall in this stack) for “${query.trim()}”`;
  pick.placeholder = "Enter: open as a read-only document · the row's button: insert at the cursor";
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  pick.items = answer.hits.map((hit) => ({ ...pickItem(hit), hit, buttons: target ? [insert] : [] }));
  const done = new Promise<void>((resolve) => {
    pick.onDidAccept(async () => {
      const chosen = pick.selectedItems[0];
      pick.hide();
      if (!chosen) return;
      const uri = docs.add(chosen.hit.name, hitDocument(chosen.hit, query.trim(), answer.via));
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, { preview: true });
    });
    pick.onDidTriggerItemButton(async (e) => {
      pick.hide();
      if (!target) return;
      await target.edit((b) => b.replace(target.selection, hitInsertText(e.item.hit)));
    });
    pick.onDidHide(() => {
      pick.dispose();
      resolve();
    });
  });
  pick.show();
  await done;
}

/** Picks an existing entity of the namespace or takes a typed name; undefined when cancelled. */
async function pickEntity(s: Services, namespace: string | undefined): Promise<{ name: string; isNew: boolean } | undefined> {
  type Item = vscode.QuickPickItem & { isNew: boolean };
  const pick = vscode.window.createQuickPick<Item>();
  pick.title = `AIOS: Remember selection${namespace ? ` in namespace ${namespace}` : ""}`;
  pick.placeholder = "Pick the entity it is about, or type a new entity's name";
  pick.busy = true;
  let existing: Item[] = [];
  const refresh = () => {
    const typed = pick.value.trim();
    const fresh: Item[] =
      typed && !existing.some((i) => i.label === typed)
        ? [{ label: typed, description: "new entity", alwaysShow: true, isNew: true }]
        : [];
    pick.items = [...fresh, ...existing];
  };
  pick.onDidChangeValue(refresh);
  entityNames(s.client().mcp, namespace).then(
    (names) => {
      existing = names.map((e) => ({ label: e.name, description: e.entityType, isNew: false }));
      pick.busy = false;
      refresh();
    },
    (e: unknown) => {
      pick.busy = false;
      s.log.warn(`could not list entities: ${(e as Error).message}`);
      pick.placeholder = "Could not list the entities; type the entity's name";
    },
  );
  const chosen = await new Promise<{ name: string; isNew: boolean } | undefined>((resolve) => {
    pick.onDidAccept(() => {
      const item = pick.selectedItems[0];
      const typed = pick.value.trim();
      resolve(item ? { name: item.label, isNew: item.isNew } : typed ? { name: typed, isNew: true } : undefined);
      pick.hide();
    });
    pick.onDidHide(() => resolve(undefined));
    pick.show();
  });
  pick.dispose();
  return chosen;
}

async function rememberCommand(s: Services): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) {
    void vscode.window.showInformationMessage("AIOS: select the text to remember first.");
    return;
  }
  const sel = editor.selection;
  const text = editor.document.getText(sel);
  if (!text.trim()) {
    void vscode.window.showInformationMessage("AIOS: the selection is only white space; nothing to remember.");
    return;
  }
  const namespace = namespaceOf(s.namespaceSetting(), folderNameOf(editor));
  const entity = await pickEntity(s, namespace);
  if (!entity) return;
  let entityType = "note";
  if (entity.isNew) {
    const typed = await vscode.window.showInputBox({
      title: `AIOS: type of the new entity “${entity.name}”`,
      value: "note",
      prompt: "e.g. note, decision, component, bug",
      ignoreFocusOut: true,
    });
    if (typed === undefined) return;
    entityType = typed.trim() || "note";
  }
  const file = vscode.workspace.asRelativePath(editor.document.uri, false);
  const endLine = sel.end.character === 0 && sel.end.line > sel.start.line ? sel.end.line : sel.end.line + 1;
  const observation = observationOf(text, file, sel.start.line + 1, endLine);
  try {
    const { created } = await remember(s.client().mcp, { namespace, entity: entity.name, entityType, observation });
    s.log.info(`remembered in ${entity.name}${namespace ? ` (namespace ${namespace})` : ""}${created ? ", a new entity" : ""}`);
    void vscode.window.showInformationMessage(
      `AIOS: remembered in “${entity.name}”${created ? " (new)" : ""}${namespace ? `, namespace ${namespace}` : ""}.`,
    );
  } catch (e) {
    await failed(s, "could not remember the selection", e);
  }
}

async function showPeersCommand(s: Services): Promise<void> {
  let peers;
  try {
    peers = await s.client().peers();
  } catch (e) {
    return failed(s, "could not list the peers", e);
  }
  if (!peers.length) {
    void vscode.window.showInformationMessage("AIOS: no peers known; this machine is on its own.");
    return;
  }
  const { alive, known } = peerCounts(peers);
  const icon: Record<string, string> = { alive: "$(pass-filled)", suspect: "$(warning)", dead: "$(error)" };
  const choice = await vscode.window.showQuickPick(
    [...peers]
      .sort((a, b) => a.cell_id.localeCompare(b.cell_id))
      .map((p) => ({
        label: `${icon[p.status] ?? "$(circle-outline)"} ${p.cell_id}`,
        description: [
          p.status,
          `level ${formatLevel(p.consciousness_level)}`,
          typeof p.rtt_ms === "number" ? `${Math.round(p.rtt_ms)} ms` : "",
        ]
          .filter(Boolean)
          .join(" · "),
        detail: [p.url, p.hostname && `host ${p.hostname}`, p.last_seen && `last seen ${p.last_seen}`]
          .filter(Boolean)
          .join(" · "),
        url: p.url,
      })),
    { title: `AIOS peers: ${alive} alive of ${known} known`, placeHolder: "Pick a peer to open its dashboard" },
  );
  if (choice?.url) await vscode.env.openExternal(vscode.Uri.parse(`${choice.url.replace(/\/+$/, "")}/`));
}

async function openDashboardCommand(s: Services): Promise<void> {
  let state = s.state();
  if (state.kind !== "up") {
    await s.pollNow();
    state = s.state();
  }
  const health = state.kind === "up" ? state.health : undefined;
  const url = dashboardUrl(s.dashboardSetting(), health, s.client().baseUrl);
  if (state.kind === "down") s.log.warn(`opening ${url}, though the stack does not answer: ${state.reason}`);
  await vscode.env.openExternal(vscode.Uri.parse(url));
}

export function registerCommands(context: vscode.ExtensionContext, s: Services): void {
  const docs = new RecallDocuments();
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(RECALL_SCHEME, docs),
    vscode.commands.registerCommand("aios.recall", () => recallCommand(s, docs)),
    vscode.commands.registerCommand("aios.rememberSelection", () => rememberCommand(s)),
    vscode.commands.registerCommand("aios.showPeers", () => showPeersCommand(s)),
    vscode.commands.registerCommand("aios.openDashboard", () => openDashboardCommand(s)),
  );
}
