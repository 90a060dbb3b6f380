/**
 * JSON-lines log files under AIOS_LOG_DIR: one file a day
 * (aios-YYYY-MM-DD.log), rolled to .1, .2 … when it passes the size limit.
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";

export const MAX_LOG_BYTES = 20 * 1024 * 1024;
const KEEP_ROLLED = 5;

export class LogFiles {
  private day = "";
  private file = "";
  private size = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes = MAX_LOG_BYTES,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  get current(): string {
    return this.file;
  }

  write(line: string, now = new Date()): void {
    const day = now.toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.file = path.join(this.dir, `aios-${day}.log`);
      this.size = existsSync(this.file) ? statSync(this.file).size : 0;
    }
    const data = line.endsWith("\n") ? line : line + "\n";
    if (this.size + data.length > this.maxBytes && this.size > 0) this.roll();
    appendFileSync(this.file, data);
    this.size += Buffer.byteLength(data);
  }

  private roll(): void {
    for (let i = KEEP_ROLLED - 1; i >= 1; i--) {
      const from = `${this.file}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.file}.${i + 1}`);
    }
    renameSync(this.file, `${this.file}.1`);
    this.size = 0;
  }
}
