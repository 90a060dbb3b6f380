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

/**
 * How a file is named to other machines: its path relative to its workspace
 * folder; outside any folder only its name, since an absolute path says more
 * about the machine than needed.
 */
export function fileLabel(path: string, inFolder: boolean): string {
  return inFolder ? path : (path.split(/[\\/]/).pop() ?? path);
}

export function contextOf(editor: EditorFacts | undefined): SharedContext | undefined {
  if (!editor || !SHARED_SCHEMES.has(editor.scheme)) return undefined;
  const file = fileLabel(editor.relativePath, editor.folderName !== undefined);
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
  /** Replaces this machine's context on the cell; `{}` clears it. */
  send: (context: SharedContext | Record<string, never>) => Promise<void>;
  /** After a file (or language) was sent, how long further file switches are gathered into one. */
  fileDelayMs?: number;
  /** Delay before a selection change within the same file is sent. */
  selectionDelayMs?: number;
  /** First wait before a failed send is tried again; it doubles with each failure, up to `retryMaxMs`. */
  retryFirstMs?: number;
  retryMaxMs?: number;
  /** Whether a failed send is worth trying again (default: always); a refusal of the request itself is not. */
  retryable?: (e: unknown) => boolean;
  timers?: Timers;
  now?: () => number;
  onError?: (e: unknown) => void;
  onSent?: (context: SharedContext | Record<string, never>) => void;
}

/** The cell has no context from this machine (sharing was turned off). */
const CLEARED = "cleared" as const;
type CellValue = SharedContext | typeof CLEARED;

const same = (a: CellValue | undefined, b: CellValue | undefined) =>
  a === CLEARED || b === CLEARED ? a === b : sameContext(a, b);

/**
 * Keeps the cell's copy of this window's context equal to what the editor
 * shows, one request at a time: every change is compared with what the cell
 * will have once the request under way is answered, and after each answer the
 * two are compared again. A failed request is tried again after 1, 2, 4 … s
 * (capped). Sharing waits while the window is not focused (another window's
 * context is the current one then) and while the bridge cannot be used.
 */
export class ContextSharer {
  /** What the active editor shows. */
  private desired: SharedContext | undefined;
  /** What the cell has from this window, as far as known (undefined: not known). */
  private cell: CellValue | undefined;
  private sending: { value: CellValue; done: Promise<void>; epoch: number } | undefined;
  /** Counts the moments the cell's copy became unknown (resend, focus regained): an answer from before says nothing. */
  private epoch = 0;
  private timer: unknown;
  private enabled = true;
  private focused = true;
  private paused = false;
  /** A context was (or may have been) put on the cell, so turning sharing off has something to clear. */
  private mayHaveShared = false;
  private readonly fileDelay: number;
  private readonly selectionDelay: number;
  private readonly retryFirst: number;
  private readonly retryMax: number;
  private retryDelay: number;
  private readonly timers: Timers;
  private readonly now: () => number;
  private lastFlush = -Infinity;

  constructor(private readonly opts: SharerOptions) {
    this.now = opts.now ?? Date.now;
    this.fileDelay = opts.fileDelayMs ?? 150;
    this.selectionDelay = opts.selectionDelayMs ?? 1500;
    this.retryFirst = opts.retryFirstMs ?? 1000;
    this.retryMax = opts.retryMaxMs ?? 30_000;
    this.retryDelay = this.retryFirst;
    this.timers = opts.timers ?? realTimers;
  }

  /** The editor changed: remember what it shows and send it later if it differs from what the cell will have. */
  update(context: SharedContext | undefined): void {
    if (!context) return; // a panel or no editor: the developer is still where they were
    this.desired = context;
    this.schedule();
  }

  /** The stack came back (or the bridge changed): send what the editor shows now, even if it was sent before. */
  resend(): void {
    this.forget();
    this.retryDelay = this.retryFirst;
    this.schedule();
  }

  /** Turns sharing on or off (the setting); off clears what this window shared from the cell, once any send under way is answered. */
  async setEnabled(on: boolean): Promise<void> {
    if (on === this.enabled) return;
    this.enabled = on;
    if (on) this.forget();
    this.schedule();
    if (!on) await this.flush();
  }

  /**
   * This window gained or lost the focus. While another window has it, that
   * window's context is the one to show; on regaining it, this window's goes
   * out again (the cell may have another window's now).
   */
  setFocused(focused: boolean): void {
    if (focused === this.focused) return;
    this.focused = focused;
    if (focused) this.forget();
    this.schedule();
  }

  /** Nothing is sent while paused (the bridge's address is unusable); resend() before resuming, so one request goes out. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    this.schedule();
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }

  dispose(): void {
    this.cancel();
    this.enabled = false;
    this.paused = true;
  }

  /** What the cell should have from this window now; undefined when there is nothing to do. */
  private goal(): CellValue | undefined {
    if (this.paused) return undefined;
    if (!this.enabled) return this.mayHaveShared ? CLEARED : undefined;
    return this.focused ? this.desired : undefined;
  }

  /** What the cell will have once the request under way (if any) is answered; undefined: not known. */
  private expected(): CellValue | undefined {
    if (!this.sending) return this.cell;
    return this.sending.epoch === this.epoch ? this.sending.value : undefined;
  }

  /** The cell's copy is not known any more (another window may have written since): send again. */
  private forget(): void {
    this.cell = undefined;
    this.epoch++;
  }

  private schedule(delay?: number): void {
    this.cancel();
    const goal = this.goal();
    const expected = this.expected();
    if (goal === undefined || same(goal, expected)) return;
    if (delay === undefined) {
      const newFile = goal === CLEARED || expected === CLEARED || !sameFile(goal, expected);
      // A new file after a quiet spell goes out at once; more changes soon after wait for the burst to end.
      if (newFile && !this.sending && this.now() - this.lastFlush >= this.fileDelay) {
        void this.flush();
        return;
      }
      delay = newFile ? this.fileDelay : this.selectionDelay;
    }
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
  }

  private cancel(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  /** Sends what the cell should have, after the request under way (if any) is answered. */
  async flush(): Promise<void> {
    this.lastFlush = this.now();
    while (this.sending) await this.sending.done;
    const value = this.goal();
    if (value === undefined || same(value, this.cell)) return;
    if (value !== CLEARED) this.mayHaveShared = true;
    const body = value === CLEARED ? {} : value;
    let failure: { e: unknown } | undefined;
    const epoch = this.epoch;
    const done = this.opts
      .send(body)
      .then(
        () => {
          this.cell = epoch === this.epoch ? value : undefined;
          this.retryDelay = this.retryFirst;
          if (value === CLEARED) this.mayHaveShared = false;
          this.opts.onSent?.(body);
        },
        (e: unknown) => {
          // It may or may not have arrived: not known.
          this.cell = undefined;
          failure = { e };
          this.opts.onError?.(e);
        },
      )
      .finally(() => {
        this.sending = undefined;
        this.afterSend(failure);
      });
    this.sending = { value, done, epoch };
    await done;
  }

  /** After an answer: what changed meanwhile goes out; a failure is tried again later. */
  private afterSend(failure: { e: unknown } | undefined): void {
    if (this.timer !== undefined) return; // a change meanwhile has its own timer
    if (!failure) {
      this.schedule();
      return;
    }
    if (!(this.opts.retryable?.(failure.e) ?? true)) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.retryMax);
    this.schedule(delay);
  }
}
