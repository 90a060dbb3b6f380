/**
 * The live editing context: which folder, file, language and lines the
 * developer is on (never the file's content), sent to the bridge only when
 * it changed. A file switch goes out at once, and further switches within
 * `fileDelayMs` are sent as one when they stop; cursor moves within a file
 * wait longer, so wandering around a file is not a stream of replicated
 * writes.
 */

export interface SharedContext {
  workspace?: string;
  file: string;
  language: string;
  /** 1-based, inclusive, as editors number lines. */
  selection: { start_line: number; end_line: number };
}

/** What the extension reads from the active editor (kept free of the vscode module, so it is testable). */
export interface EditorFacts {
  scheme: string;
  /** The workspace folder holding the file, if any. */
  folderName?: string;
  /** Path relative to that folder ("/"-separated), or the absolute path when there is no folder. */
  relativePath: string;
  languageId: string;
  /** 0-based, as vscode.Selection has them. */
  selectionStartLine: number;
  selectionEndLine: number;
  /** The selection ends at character 0 of its last line (a whole-line selection): that line is not selected. */
  selectionEndsAtLineStart: boolean;
  selectionEmpty: boolean;
}

/** Documents that are files a person edits; output panels, settings UIs and the like are not shared. */
const SHARED_SCHEMES = new Set(["file", "vscode-remote", "untitled", "vscode-vfs"]);

export function contextOf(editor: EditorFacts | undefined): SharedContext | undefined {
  if (!editor || !SHARED_SCHEMES.has(editor.scheme)) return undefined;
  // Outside any workspace folder, only the file's name: an absolute path says more about the machine than needed.
  const file = editor.folderName ? editor.relativePath : (editor.relativePath.split(/[\\/]/).pop() ?? editor.relativePath);
  let end = editor.selectionEndLine;
  if (!editor.selectionEmpty && editor.selectionEndsAtLineStart && end > editor.selectionStartLine) end -= 1;
  return {
    ...(editor.folderName ? { workspace: editor.folderName } : {}),
    file,
    language: editor.languageId,
    selection: { start_line: editor.selectionStartLine + 1, end_line: end + 1 },
  };
}

export function sameContext(a: SharedContext | undefined, b: SharedContext | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.workspace === b.workspace &&
    a.file === b.file &&
    a.language === b.language &&
    a.selection.start_line === b.selection.start_line &&
    a.selection.end_line === b.selection.end_line
  );
}

export function sameFile(a: SharedContext | undefined, b: SharedContext | undefined): boolean {
  return !!a && !!b && a.workspace === b.workspace && a.file === b.file && a.language === b.language;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface SharerOptions {
  send: (context: SharedContext | Record<string, never>) => Promise<void>;
  /** After a file (or language) was sent, how long further file switches are gathered into one. */
  fileDelayMs?: number;
  /** Delay before a selection change within the same file is sent. */
  selectionDelayMs?: number;
  timers?: Timers;
  now?: () => number;
  onError?: (e: unknown) => void;
  onSent?: (context: SharedContext) => void;
}

export class ContextSharer {
  private desired: SharedContext | undefined;
  private sent: SharedContext | undefined;
  private timer: unknown;
  private inFlight: Promise<void> | undefined;
  private enabled = true;
  /** Something was shared in this session (so turning sharing off clears it from the cell). */
  private shared = false;
  private readonly fileDelay: number;
  private readonly selectionDelay: number;
  private readonly timers: Timers;
  private readonly now: () => number;
  private lastFlush = -Infinity;

  constructor(private readonly opts: SharerOptions) {
    this.now = opts.now ?? Date.now;
    this.fileDelay = opts.fileDelayMs ?? 150;
    this.selectionDelay = opts.selectionDelayMs ?? 1500;
    this.timers = opts.timers ?? realTimers;
  }

  /** The editor changed: remember what it shows and send it later if it differs from what the cell has. */
  update(context: SharedContext | undefined): void {
    if (!context) return; // a panel or no editor: the developer is still where they were
    this.desired = context;
    if (!this.enabled) return;
    if (sameContext(context, this.sent)) {
      this.cancel();
      return;
    }
    this.cancel();
    const newFile = !sameFile(context, this.sent);
    // A new file after a quiet spell goes out at once; more changes soon after wait for the burst to end.
    if (newFile && !this.inFlight && this.now() - this.lastFlush >= this.fileDelay) {
      void this.flush();
      return;
    }
    const delay = newFile ? this.fileDelay : this.selectionDelay;
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
  }

  /** The stack came back (or the bridge changed): send what the editor shows now, even if it was sent before. */
  resend(): void {
    this.sent = undefined;
    if (this.desired) this.update(this.desired);
  }

  /** Turns sharing on or off; off clears what this session shared from the cell. */
  async setEnabled(on: boolean): Promise<void> {
    if (on === this.enabled) return;
    this.enabled = on;
    this.cancel();
    if (on) {
      this.sent = undefined;
      if (this.desired) this.update(this.desired);
      return;
    }
    if (this.shared) {
      this.shared = false;
      this.sent = undefined;
      await this.opts.send({}).catch((e: unknown) => this.opts.onError?.(e));
    }
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }

  dispose(): void {
    this.cancel();
    this.enabled = false;
  }

  private cancel(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  /** Sends the desired context, one request at a time; a failure leaves it unsent, to go out on resend(). */
  async flush(): Promise<void> {
    this.lastFlush = this.now();
    if (this.inFlight) await this.inFlight;
    const context = this.desired;
    if (!this.enabled || !context || sameContext(context, this.sent)) return;
    this.inFlight = this.opts
      .send(context)
      .then(() => {
        this.sent = context;
        this.shared = true;
        this.opts.onSent?.(context);
      })
      .catch((e: unknown) => this.opts.onError?.(e))
      .finally(() => (this.inFlight = undefined));
    await this.inFlight;
  }
}
