/**
 * Storage of the consciousness state. Every replicated row carries the cell
 * that wrote it (`origin`), that cell's write sequence (`oseq`, for version
 * vectors) and a hybrid logical clock stamp (`hlc`, for last-writer-wins).
 * Deletes are tombstones. Each observation is its own row: an element of an
 * add-wins set, identified by a unique tag.
 */
export const MIGRATIONS = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE entities (
     ns TEXT NOT NULL, name TEXT NOT NULL, entity_type TEXT NOT NULL,
     deleted INTEGER NOT NULL DEFAULT 0,
     hlc TEXT NOT NULL, origin TEXT NOT NULL, oseq INTEGER NOT NULL,
     PRIMARY KEY (ns, name));
   CREATE INDEX entities_origin ON entities (origin, oseq);
   CREATE TABLE observations (
     tag TEXT PRIMARY KEY,
     ns TEXT NOT NULL, entity TEXT NOT NULL, content TEXT NOT NULL,
     added_hlc TEXT NOT NULL,
     removed INTEGER NOT NULL DEFAULT 0,
     hlc TEXT NOT NULL, origin TEXT NOT NULL, oseq INTEGER NOT NULL);
   CREATE INDEX observations_entity ON observations (ns, entity, removed);
   CREATE INDEX observations_origin ON observations (origin, oseq);
   CREATE TABLE relations (
     ns TEXT NOT NULL, from_entity TEXT NOT NULL, to_entity TEXT NOT NULL, relation_type TEXT NOT NULL,
     deleted INTEGER NOT NULL DEFAULT 0,
     hlc TEXT NOT NULL, origin TEXT NOT NULL, oseq INTEGER NOT NULL,
     PRIMARY KEY (ns, from_entity, to_entity, relation_type));
   CREATE INDEX relations_to ON relations (ns, to_entity);
   CREATE INDEX relations_origin ON relations (origin, oseq);
   CREATE TABLE messages (
     id TEXT PRIMARY KEY, from_cell TEXT NOT NULL, to_cell TEXT, message_type TEXT NOT NULL,
     content TEXT NOT NULL, priority TEXT NOT NULL, metadata TEXT NOT NULL, created_at TEXT NOT NULL,
     hlc TEXT NOT NULL, origin TEXT NOT NULL, oseq INTEGER NOT NULL);
   CREATE INDEX messages_hlc ON messages (hlc);
   CREATE INDEX messages_from ON messages (from_cell, hlc);
   CREATE INDEX messages_origin ON messages (origin, oseq);
   CREATE TABLE contexts (
     cell_id TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at TEXT NOT NULL,
     hlc TEXT NOT NULL, origin TEXT NOT NULL, oseq INTEGER NOT NULL);
   CREATE INDEX contexts_origin ON contexts (origin, oseq);
   CREATE TABLE reported_levels (
     reporter TEXT PRIMARY KEY, level REAL NOT NULL, source TEXT NOT NULL, reported_at TEXT NOT NULL);
   CREATE TABLE activity (minute INTEGER PRIMARY KEY, writes INTEGER NOT NULL);
   CREATE VIRTUAL TABLE entities_fts USING fts5 (name, type, tokenize = 'trigram');
   CREATE VIRTUAL TABLE observations_fts USING fts5 (body, tokenize = 'trigram');`,
  `CREATE TABLE vv (origin TEXT PRIMARY KEY, seq INTEGER NOT NULL);
   CREATE TABLE sync_peers (
     peer_id TEXT PRIMARY KEY, last_attempt INTEGER, last_success INTEGER, last_error TEXT,
     in_sync INTEGER NOT NULL DEFAULT 0, rounds_ok INTEGER NOT NULL DEFAULT 0, rounds_failed INTEGER NOT NULL DEFAULT 0,
     rows_sent INTEGER NOT NULL DEFAULT 0, rows_received INTEGER NOT NULL DEFAULT 0,
     bytes_sent INTEGER NOT NULL DEFAULT 0, bytes_received INTEGER NOT NULL DEFAULT 0, peer_vv TEXT);`,
  // The dashboard's own history of the level (level-history.ts): local only, never replicated, a day at most.
  `CREATE TABLE level_history (
     t INTEGER PRIMARY KEY, level REAL NOT NULL,
     awareness REAL NOT NULL, adaptation REAL NOT NULL, coherence REAL NOT NULL, momentum REAL NOT NULL);`,
  // Search (search.ts): a word index beside the trigram one, so a query that is a whole word is answered
  // from short word lists; triggers keep both indexes in step with their tables, whoever writes them.
  `CREATE VIRTUAL TABLE entities_words USING fts5 (
     name, type, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
   CREATE VIRTUAL TABLE observations_words USING fts5 (
     body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
   INSERT INTO entities_words (rowid, name, type) SELECT rowid, name, entity_type FROM entities WHERE deleted = 0;
   INSERT INTO observations_words (rowid, body) SELECT rowid, content FROM observations WHERE removed = 0;
   CREATE TRIGGER entities_indexed AFTER INSERT ON entities WHEN new.deleted = 0 BEGIN
     INSERT INTO entities_fts (rowid, name, type) VALUES (new.rowid, new.name, new.entity_type);
     INSERT INTO entities_words (rowid, name, type) VALUES (new.rowid, new.name, new.entity_type);
   END;
   CREATE TRIGGER entities_reindexed AFTER UPDATE OF deleted, entity_type ON entities BEGIN
     DELETE FROM entities_fts WHERE rowid = old.rowid AND old.deleted = 0;
     DELETE FROM entities_words WHERE rowid = old.rowid AND old.deleted = 0;
     INSERT INTO entities_fts (rowid, name, type) SELECT new.rowid, new.name, new.entity_type WHERE new.deleted = 0;
     INSERT INTO entities_words (rowid, name, type) SELECT new.rowid, new.name, new.entity_type WHERE new.deleted = 0;
   END;
   CREATE TRIGGER entities_unindexed AFTER DELETE ON entities WHEN old.deleted = 0 BEGIN
     DELETE FROM entities_fts WHERE rowid = old.rowid;
     DELETE FROM entities_words WHERE rowid = old.rowid;
   END;
   CREATE TRIGGER observations_indexed AFTER INSERT ON observations WHEN new.removed = 0 BEGIN
     INSERT INTO observations_fts (rowid, body) VALUES (new.rowid, new.content);
     INSERT INTO observations_words (rowid, body) VALUES (new.rowid, new.content);
   END;
   CREATE TRIGGER observations_reindexed AFTER UPDATE OF removed ON observations BEGIN
     DELETE FROM observations_fts WHERE rowid = old.rowid AND old.removed = 0;
     DELETE FROM observations_words WHERE rowid = old.rowid AND old.removed = 0;
     INSERT INTO observations_fts (rowid, body) SELECT new.rowid, new.content WHERE new.removed = 0;
     INSERT INTO observations_words (rowid, body) SELECT new.rowid, new.content WHERE new.removed = 0;
   END;
   CREATE TRIGGER observations_unindexed AFTER DELETE ON observations WHEN old.removed = 0 BEGIN
     DELETE FROM observations_fts WHERE rowid = old.rowid;
     DELETE FROM observations_words WHERE rowid = old.rowid;
   END;`,
  // add_observations skips an observation the entity already holds: one lookup here, instead of reading
  // all of the entity's observations on every write (which made writes slower as an entity grew).
  `CREATE INDEX IF NOT EXISTS observations_content ON observations (ns, entity, content) WHERE removed = 0;`,
  // Search (search.ts), version 2: one index per tokenizer holding entities and observations (a tier is one
  // query), and batched indexing: triggers queue written rows in search_pending and unindex removed ones; an
  // entity row r is 2r in the indexes and the queue, an observation row r is 2r + 1. The old indexes go.
  `DROP TRIGGER entities_indexed; DROP TRIGGER entities_reindexed; DROP TRIGGER entities_unindexed;
   DROP TRIGGER observations_indexed; DROP TRIGGER observations_reindexed; DROP TRIGGER observations_unindexed;
   DROP TABLE entities_fts; DROP TABLE observations_fts; DROP TABLE entities_words; DROP TABLE observations_words;
   CREATE VIRTUAL TABLE search_words USING fts5 (
     name, type, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
   CREATE VIRTUAL TABLE search_trigrams USING fts5 (
     name, type, body, content = '', contentless_delete = 1, tokenize = 'trigram');
   CREATE TABLE search_pending (id INTEGER PRIMARY KEY);
   INSERT INTO search_pending (id) SELECT rowid * 2 FROM entities WHERE deleted = 0;
   INSERT INTO search_pending (id) SELECT rowid * 2 + 1 FROM observations WHERE removed = 0;
   CREATE TRIGGER entities_indexed AFTER INSERT ON entities WHEN new.deleted = 0 BEGIN
     INSERT OR IGNORE INTO search_pending (id) VALUES (new.rowid * 2);
   END;
   CREATE TRIGGER entities_reindexed AFTER UPDATE OF deleted, entity_type ON entities BEGIN
     ${unindex("old.rowid * 2", "old.deleted = 0")}
     INSERT OR IGNORE INTO search_pending (id) SELECT new.rowid * 2 WHERE new.deleted = 0;
   END;
   CREATE TRIGGER entities_unindexed AFTER DELETE ON entities BEGIN
     ${unindex("old.rowid * 2", "old.deleted = 0")}
   END;
   CREATE TRIGGER observations_indexed AFTER INSERT ON observations WHEN new.removed = 0 BEGIN
     INSERT OR IGNORE INTO search_pending (id) VALUES (new.rowid * 2 + 1);
   END;
   CREATE TRIGGER observations_reindexed AFTER UPDATE OF removed ON observations BEGIN
     ${unindex("old.rowid * 2 + 1", "old.removed = 0")}
     INSERT OR IGNORE INTO search_pending (id) SELECT new.rowid * 2 + 1 WHERE new.removed = 0;
   END;
   CREATE TRIGGER observations_unindexed AFTER DELETE ON observations BEGIN
     ${unindex("old.rowid * 2 + 1", "old.removed = 0")}
   END;`,
  // observations_content (ns, entity, content) WHERE removed = 0 serves every lookup of an entity's live
  // observations (they all say removed = 0); this index only cost every write one more B-tree insert.
  `DROP INDEX observations_entity;`,
  // Search, version 3: the words of the word index, each once, and every ending of each of at least three
  // characters, so that the longer words holding a one-word query are one range of a B-tree away (the
  // words holding "gres" are those with an ending that starts with it: "gresql", "gress"). search_batch
  // takes one indexed batch at a time (its words only: no positions, no sizes); its vocabulary gives the
  // batch's words as the word index split them.
  `CREATE TABLE search_terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
   CREATE TABLE search_term_endings (ending TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (ending, id)) WITHOUT ROWID;
   CREATE VIRTUAL TABLE search_batch USING fts5 (
     name, type, body, content = '', detail = none, columnsize = 0, tokenize = 'unicode61 remove_diacritics 0');
   CREATE VIRTUAL TABLE search_batch_terms USING fts5vocab (search_batch, row);
   CREATE VIRTUAL TABLE search_words_terms USING fts5vocab (search_words, row);
   INSERT INTO search_terms (term) SELECT term FROM search_words_terms;
   DROP TABLE search_words_terms;
   ${termEndings("0")}`,
  // Recall (embeddings.ts): vectors derived on this replica from its rows, never replicated. A vector's id is
  // the row's search id (entity 2r, observation 2r + 1), or minus a message's rowid (no migration: messages
  // are queued by embed-queue.ts queueMessages); `model` says which embedder made it (queries read
  // only the current model's). embed_pending is the backlog, filled from search_pending as rows are
  // indexed; `version` grows when a queued row is queued again, so a batch never drops a newer request.
  `CREATE TABLE IF NOT EXISTS vectors (
     id INTEGER PRIMARY KEY, model TEXT NOT NULL, dim INTEGER NOT NULL, scale REAL NOT NULL, vec BLOB NOT NULL,
     ns TEXT NOT NULL, entity INTEGER NOT NULL);
   CREATE INDEX IF NOT EXISTS vectors_model ON vectors (model);
   CREATE TABLE IF NOT EXISTS embed_pending (id INTEGER PRIMARY KEY, version INTEGER NOT NULL DEFAULT 0);`,
];

/** Inserts the endings of the words whose id is above `after` (a number or a bound parameter). */
export function termEndings(after: string): string {
  return `WITH RECURSIVE ending (text, id) AS (
     SELECT term, id FROM search_terms WHERE id > ${after} AND length(term) > 3
     UNION ALL SELECT substr(text, 2), id FROM ending WHERE length(text) > 3)
   INSERT INTO search_term_endings (ending, id) SELECT text, id FROM ending;`;
}

/**
 * Trigger statements taking row `id` out of search: out of both indexes if it is
 * in them (it was live and is not still queued), and out of the queue.
 */
function unindex(id: string, wasLive: string): string {
  const indexed = `${wasLive} AND NOT EXISTS (SELECT 1 FROM search_pending WHERE id = ${id})`;
  return `DELETE FROM search_words WHERE rowid = ${id} AND ${indexed};
     DELETE FROM search_trigrams WHERE rowid = ${id} AND ${indexed};
     DELETE FROM search_pending WHERE id = ${id};`;
}
