-- Migration 0001: the schema as of the first release (files, vector stores, keys, usage). Idempotent,
-- so databases created before migrations existed (schema.sql applied directly) upgrade in place.

-- API keys, stored only as SHA-256 hashes. `prefix` (first characters of the key) helps people
-- recognise a key in listings; `project` groups keys that share stored objects.
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  project TEXT,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

-- One row per request, keyed by the request id: a redelivered queue message inserts nothing.
CREATE TABLE IF NOT EXISTS usage_events (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  model TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL
);

-- Daily totals per key and model, kept by the trigger below: it fires only for rows that were
-- really inserted, so the totals are exactly as idempotent as usage_events.
CREATE TABLE IF NOT EXISTS usage_daily (
  key_id TEXT NOT NULL,
  model TEXT NOT NULL,
  day TEXT NOT NULL,
  requests INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  PRIMARY KEY (key_id, model, day)
);

CREATE TRIGGER IF NOT EXISTS usage_daily_rollup AFTER INSERT ON usage_events
BEGIN
  INSERT INTO usage_daily (key_id, model, day, requests, prompt_tokens, completion_tokens)
  VALUES (NEW.key_id, NEW.model, date(NEW.created_at, 'unixepoch'), 1, NEW.prompt_tokens,
          NEW.completion_tokens)
  ON CONFLICT (key_id, model, day) DO UPDATE SET
    requests = requests + 1,
    prompt_tokens = prompt_tokens + excluded.prompt_tokens,
    completion_tokens = completion_tokens + excluded.completion_tokens;
END;

-- Uploaded files (/v1/files): the bytes are the R2 object `files/<id>`. The row exists before the
-- object and outlives it: status 'uploading' until the object is stored, then 'processed' (the only
-- status callers see), 'deleting' once deleted until the object is gone. So no object is ever
-- without a row. `owner` is the key's project (or the key itself); expires_at NULL = never.
CREATE TABLE IF NOT EXISTS files (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  filename TEXT NOT NULL,
  purpose TEXT NOT NULL,
  status TEXT NOT NULL
);

-- Listing walks one owner's files by (created_at, id), the pagination order.
CREATE INDEX IF NOT EXISTS files_by_owner ON files (owner, created_at, id);

-- Vector stores (/v1/vector_stores). JSON columns hold the objects as OpenAI shows them.
-- expires_at follows last_active_at when expires_after is set (anchor last_active_at).
CREATE TABLE IF NOT EXISTS vector_stores (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  expires_after TEXT,
  expires_at INTEGER,
  last_active_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'completed'
);

CREATE INDEX IF NOT EXISTS vector_stores_by_owner ON vector_stores (owner, created_at, id);

-- A file attached to a store; status in_progress | completed | failed | cancelled. The ingestion
-- job (api.vector_stores.ingest) moves it out of in_progress, and only from there.
CREATE TABLE IF NOT EXISTS vector_store_files (
  vector_store_id TEXT NOT NULL,
  file_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  status TEXT NOT NULL,
  last_error TEXT,
  attributes TEXT NOT NULL DEFAULT '{}',
  chunking_strategy TEXT NOT NULL,
  usage_bytes INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  batch_id TEXT,
  PRIMARY KEY (vector_store_id, file_id)
);

CREATE INDEX IF NOT EXISTS vector_store_files_by_file ON vector_store_files (file_id);
CREATE INDEX IF NOT EXISTS vector_store_files_by_batch ON vector_store_files (batch_id);

CREATE TABLE IF NOT EXISTS vector_store_file_batches (
  id TEXT PRIMARY KEY,
  vector_store_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  cancelled INTEGER NOT NULL DEFAULT 0
);

-- Chunk text, keyed like its vector: `<store>:<file>:<n>`, so a re-run replaces, never duplicates.
CREATE TABLE IF NOT EXISTS chunks (
  id TEXT PRIMARY KEY,
  vector_store_id TEXT NOT NULL,
  file_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  text TEXT NOT NULL,
  tokens INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks (vector_store_id, file_id, n);
