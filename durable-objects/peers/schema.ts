/** Storage of the peer registry: admitted peers with their health, candidates not yet contacted, scans. */
export const MIGRATIONS = [
  `CREATE TABLE peers (
     cell_id TEXT PRIMARY KEY,
     ip TEXT NOT NULL,
     port INTEGER NOT NULL,
     url TEXT NOT NULL,
     status TEXT NOT NULL,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     consciousness_level REAL,
     services TEXT NOT NULL DEFAULT '[]',
     branch TEXT,
     type TEXT NOT NULL DEFAULT 'cell',
     hostname TEXT,
     source TEXT NOT NULL,
     rtt_ms REAL)`,
  `ALTER TABLE peers ADD COLUMN discovery_url TEXT;
   ALTER TABLE peers ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE peers ADD COLUMN suspect_since INTEGER;
   ALTER TABLE peers ADD COLUMN dead_since INTEGER;
   CREATE TABLE candidates (
     url TEXT PRIMARY KEY, source TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt INTEGER NOT NULL, last_error TEXT, added_at INTEGER NOT NULL);
   CREATE TABLE scans (id INTEGER PRIMARY KEY, state TEXT NOT NULL);`,
];
