/** The commands: Recall…, Remember Selection, Show Peers, Open Dashboard. One message per failed command, never more. */
import * as vscode from "vscode";
import { dashboardUrl, type BridgeClient } from "./bridge";
import { BridgeError } from "./http";
import { fileLabel } from "./context";
import { MEMORY_LIMITS, tooLong } from "./limits";
import { hitDocument, hitInsertText, insertionTarget, pickItem, recall, type RecallHit } from "./recall";
import { entityNames, namespaceOf, observationOf, remember } from "./remember";
import type { StackState } from "./status";
import { formatLevel, peerCounts } from "./status";

export interface Services {
  client(): BridgeClient;
  /** Why the bridge cannot be used (aios.bridgeUrl is not a URL), if so: commands refuse with it. */
  unusable(): string | undefined;
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

/** A command that cannot run as configured says why, with a way to the setting, and stops. */
function refused(what: string, why: string, setting: string): undefined {
  const open = "Open Settings";
  void vscode.window.showErrorMessage(`AIOS: ${what}: ${why}.`, open).then((choice) => {
    if (choice === open) void vscode.commands.executeCommand("workbench.action.openSettings", setting);
  });
  return undefined;
}

/** The namespace for a command, or undefined (having said why) when aios.namespace is not usable. */
function commandNamespace(
  s: Services,
  what: string,
  editor: vscode.TextEditor | undefined,
): { namespace: string | undefined } | undefined {
  const bad = s.unusable();
  if (bad) return refused(what, bad, "aios.bridgeUrl");
  const choice = namespaceOf(s.namespaceSetting(), folderNameOf(editor));
  return "error" in choice ? refused(what, choice.error, "aios.namespace") : choice;
}

async function recallCommand(s: Services, docs: RecallDocuments): Promise<void> {
  const target = vscode.window.activeTextEditor;
  const ns = commandNamespace(s, "cannot recall", target);
  if (!ns) return;
  const namespace = ns.namespace;
  const query = await vscode.window.showInputBox({
    title: "AIOS: Recall",
    prompt: `Ask the shared memory${namespace ? ` (namespace ${namespace})` : ""}`,
    placeHolder: "e.g. how do we sign requests between cells?",
    ignoreFocusOut: true,
    validateInput: (v) => tooLong(v.trim(), MEMORY_LIMITS.recallQuery, "a question"),
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
  pick.items = answer.hits.map((hit) => ({ ...pickItem(hit), hit, buttons: [insert] }));
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
      await insertHit(s, e.item.hit, target);
    });
    pick.onDidHide(() => {
      pick.dispose();
      resolve();
    });
  });
  pick.show();
  await done;
}

/** Inserts a recalled entity's observations where Recall… started, or (that editor closed) into the active editor. */
async function insertHit(s: Services, hit: RecallHit, started: vscode.TextEditor | undefined): Promise<void> {
  const where = insertionTarget(started, vscode.window.visibleTextEditors, vscode.window.activeTextEditor);
  if (!where) {
    void vscode.window.showWarningMessage(
      `AIOS: no editor is open to insert “${hit.name}” into; open a file and insert it again.`,
    );
    return;
  }
  const { editor } = where;
  const name = vscode.workspace.asRelativePath(editor.document.uri, false);
  let done: boolean;
  try {
    done = await editor.edit((b) => b.replace(editor.selection, hitInsertText(hit)));
  } catch (e) {
    s.log.warn(`insert into ${name} failed: ${(e as Error).message}`);
    done = false;
  }
  if (!done) void vscode.window.showWarningMessage(`AIOS: could not insert “${hit.name}” into ${name} (is it read-only?).`);
  else if (where.moved)
    void vscode.window.showInformationMessage(
      `AIOS: the editor Recall… started from was closed; “${hit.name}” was inserted into ${name}.`,
    );
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
  const ns = commandNamespace(s, "cannot remember the selection", editor);
  if (!ns) return;
  const namespace = ns.namespace;
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
  const uri = editor.document.uri;
  const file = fileLabel(vscode.workspace.asRelativePath(uri, false), !!vscode.workspace.getWorkspaceFolder(uri));
  const endLine = sel.end.character === 0 && sel.end.line > sel.start.line ? sel.end.line : sel.end.line + 1;
  const observation = observationOf(text, file, sel.start.line + 1, endLine);
  // Checked before the dialogs, so nothing is asked for an observation the memory would refuse.
  const long = tooLong(observation, MEMORY_LIMITS.observation, "an observation (the selection and its “from” line)");
  if (long) {
    void vscode.window.showErrorMessage(`AIOS: cannot remember the selection: ${long}; select less.`);
    return;
  }
  const entity = await pickEntity(s, namespace);
  if (!entity) return;
  const longName = tooLong(entity.name, MEMORY_LIMITS.name, "an entity's name");
  if (longName) {
    void vscode.window.showErrorMessage(`AIOS: cannot remember the selection: ${longName}.`);
    return;
  }
  let entityType = "note";
  if (entity.isNew) {
    const typed = await vscode.window.showInputBox({
      title: `AIOS: type of the new entity “${entity.name}”`,
      value: "note",
      prompt: "e.g. note, decision, component, bug",
      ignoreFocusOut: true,
      validateInput: (v) => tooLong(v.trim(), MEMORY_LIMITS.type, "an entity's type"),
    });
    if (typed === undefined) return;
    entityType = typed.trim() || "note";
  }
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
  const bad = s.unusable();
  if (bad) return refused("cannot list the peers", bad, "aios.bridgeUrl");
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
  const bad = s.unusable();
  const setting = s.dashboardSetting().trim();
  if (bad && !setting) return refused("cannot find the dashboard", `${bad}, and aios.dashboardUrl is empty`, "aios.bridgeUrl");
  if (bad) {
    await vscode.env.openExternal(vscode.Uri.parse(setting));
    return;
  }
  let state = s.state();
  if (state.kind !== "up") {
    await s.pollNow();
    state = s.state();
  }
  const health = state.kind === "up" ? state.health : undefined;
  const url = dashboardUrl(setting, health, s.client().baseUrl);
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
