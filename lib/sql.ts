/** SQLite helpers for Durable Objects: versioned additive migrations and typed reads. */

/**
 * Applies the migrations not yet applied, in order, recording the version in
 * `_schema`. Migrations are additive: a new version appends statements, never
 * edits an old one.
 */
export function migrate(sql: SqlStorage, migrations: readonly string[]): number {
  sql.exec("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM _schema").toArray()[0];
  let version = row?.version ?? 0;
  if (!row) sql.exec("INSERT INTO _schema (version) VALUES (0)");
  for (; version < migrations.length; version++) {
    sql.exec(migrations[version]!);
    sql.exec("UPDATE _schema SET version = ?", version + 1);
  }
  return version;
}

/**
 * A row count to write into a statement as `LIMIT ${limit(n)}`. Never bind a LIMIT: the SQLite in
 * workerd reads a bound LIMIT's value when it plans the statement, so binding any value to it again
 * expires the cached statement, and every run parses and plans it anew (measured with gdb on
 * workerd: a search spent an eighth of its time re-preparing). As text, each count is a statement
 * of its own, prepared once.
 */
export function limit(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a row count: ${n}`);
  return String(n);
}

export function one<T extends Record<string, SqlStorageValue>>(
  sql: SqlStorage,
  query: string,
  ...params: SqlStorageValue[]
): T | undefined {
  return sql.exec<T>(query, ...params).toArray()[0];
}

export function all<T extends Record<string, SqlStorageValue>>(
  sql: SqlStorage,
  query: string,
  ...params: SqlStorageValue[]
): T[] {
  return sql.exec<T>(query, ...params).toArray();
}

/**
 * Statements run through one place that adds up the rows they read and wrote, as Cloudflare bills a
 * SQLite-backed object (index entries count as rows). For figures such as a relay's /health.
 */
export class MeteredSql {
  rowsRead = 0;
  rowsWritten = 0;
  constructor(readonly sql: SqlStorage) {}

  all<T extends Record<string, SqlStorageValue>>(query: string, ...params: SqlStorageValue[]): T[] {
    const cursor = this.sql.exec<T>(query, ...params);
    const rows = cursor.toArray();
    this.rowsRead += cursor.rowsRead;
    this.rowsWritten += cursor.rowsWritten;
    return rows;
  }

  one<T extends Record<string, SqlStorageValue>>(query: string, ...params: SqlStorageValue[]): T | undefined {
    return this.all<T>(query, ...params)[0];
  }

  /** Runs a statement for its effect; returns the rows it wrote. */
  run(query: string, ...params: SqlStorageValue[]): number {
    const cursor = this.sql.exec(query, ...params);
    cursor.toArray();
    this.rowsRead += cursor.rowsRead;
    this.rowsWritten += cursor.rowsWritten;
    return cursor.rowsWritten;
  }
}
