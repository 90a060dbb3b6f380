/** Structured JSON-lines logging, shared by the workers and the launcher. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /(secret|token|password|authorization|api[_-]?key|private)/i;

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Replaces values of secret-looking keys so a careless field never leaks a credential. */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : v;
  return out;
}

export function parseLogLevel(value: string | undefined): LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value ?? "") ? (value as LogLevel) : "info";
}

export function createLogger(
  base: LogFields,
  level: LogLevel = "info",
  write: (line: string) => void = (line) => console.log(line),
): Logger {
  return new JsonLogger(base, RANK[level], write);
}

/** A class, not closures: every request makes a logger, most of which never write a line. */
class JsonLogger implements Logger {
  constructor(
    private readonly base: LogFields,
    private readonly min: number,
    private readonly write: (line: string) => void,
  ) {}
  private emit(lvl: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[lvl] < this.min) return;
    const record = { time: new Date().toISOString(), level: lvl, ...this.base, msg, ...redact(fields ?? {}) };
    this.write(JSON.stringify(record));
  }
  debug(msg: string, fields?: LogFields): void {
    this.emit("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.emit("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.emit("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.emit("error", msg, fields);
  }
  child(fields: LogFields): Logger {
    return new JsonLogger({ ...this.base, ...fields }, this.min, this.write);
  }
}
