-- D1 schema for workers-openai. Idempotent: safe to apply any number of times.

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

-- Keys that may manage keys in the console (scripts/keys.py create --admin). A table of its own
-- rather than a column: SQLite cannot add a column idempotently, and migrations must be.
CREATE TABLE IF NOT EXISTS admin_keys (
  key_id TEXT PRIMARY KEY REFERENCES api_keys (id)
);

-- A key's limits; a NULL column is no limit. `models`: a JSON array of the model names (or ids) the
-- key may use, NULL for all. One row per key that has any limit (scripts/keys.py limits).
CREATE TABLE IF NOT EXISTS key_limits (
  key_id TEXT PRIMARY KEY,
  requests_per_minute INTEGER,
  tokens_per_day INTEGER,
  tokens_per_month INTEGER,
  models TEXT,
  updated_at INTEGER NOT NULL
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

-- A key's tokens for a day or since a month's start: what the worker reads for token budgets.
CREATE INDEX IF NOT EXISTS usage_daily_by_key_day ON usage_daily (key_id, day);

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


-- Responses (/v1/responses): `body` is the response object as last written, without `output` (the
-- output items are rows of `items`); `status` is authoritative over body.status. JSON columns
-- hold an "r2:" pointer instead when the value is large (api.stored).
CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  previous_response_id TEXT,
  conversation_id TEXT,
  body TEXT NOT NULL,
  request TEXT
);

CREATE INDEX IF NOT EXISTS responses_by_owner ON responses (owner, created_at, id);

-- Items in order: a response's input items (role 'input') then its output items ('output'), and
-- a conversation's items ('item'). The same item (by id) may stand in a response and a conversation.
CREATE TABLE IF NOT EXISTS items (
  parent TEXT NOT NULL,
  position INTEGER NOT NULL,
  id TEXT NOT NULL,
  role TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (parent, position)
);

CREATE INDEX IF NOT EXISTS items_by_id ON items (id, owner);

CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations (owner, created_at, id);

-- Background runs (api.runs): one row per object run on the runs queue (a background response;
-- later assistant runs and batches). A consumer claims a run by raising `attempt` with a lease
-- (`lease_until`, seconds) that it renews while working; a lease that runs out means the consumer
-- died, and the scheduled sweep queues the run again. `state` is queued | running | done.
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  owner TEXT NOT NULL,
  key_id TEXT NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS runs_by_state ON runs (state, lease_until);

-- The stream events of a background run, by sequence number, for clients that follow or resume it.
CREATE TABLE IF NOT EXISTS run_events (
  run_id TEXT NOT NULL,
  sequence_number INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (run_id, sequence_number)
);

-- Assistants v2 (/v1/assistants, /v1/threads; api.assistants). `body` is the object as OpenAI
-- shows it (an "r2:" pointer when large, api.stored). `n` orders lists by creation: ids are
-- random and several objects share a second.
CREATE TABLE IF NOT EXISTS assistants (
  n INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS assistants_by_owner ON assistants (owner, n);

CREATE TABLE IF NOT EXISTS threads (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL
);

-- A thread's messages; `run_id` is the run that wrote it (NULL: written by the client).
CREATE TABLE IF NOT EXISTS thread_messages (
  n INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  thread_id TEXT NOT NULL,
  run_id TEXT,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS thread_messages_by_thread ON thread_messages (thread_id, n);

-- Runs of threads: `body` the Run object (its `metadata` is the column's, which only the client
-- changes), `state` what its executor needs to go on (the run's tool calls so far, usage, event
-- log position). Run on the run engine (table runs, kind thread_run) with the same id.
CREATE TABLE IF NOT EXISTS thread_runs (
  n INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  thread_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  expires_at INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}',
  body TEXT NOT NULL,
  state TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS thread_runs_by_thread ON thread_runs (thread_id, n);
-- OpenAI's rule, kept whatever requests race: at most one active run per thread.
CREATE UNIQUE INDEX IF NOT EXISTS thread_runs_active ON thread_runs (thread_id)
  WHERE status IN ('queued', 'in_progress', 'requires_action', 'cancelling');
-- The expiry sweep: runs waiting for tool outputs past their expires_at.
CREATE INDEX IF NOT EXISTS thread_runs_waiting ON thread_runs (status, expires_at);

CREATE TABLE IF NOT EXISTS run_steps (
  n INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  run_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS run_steps_by_run ON run_steps (run_id, n);
CREATE INDEX IF NOT EXISTS run_steps_by_thread ON run_steps (thread_id);
-- Batches (/v1/batches): `body` is the Batch object as created and as its steps stamp it (times,
-- files, errors, usage), without the columns below, which are authoritative: `status`, the request
-- counts, and the progress of its run (the runs row of the same id) — `plan` (the validated input's
-- chunks, JSON) and `cursor` (the next chunk to run).
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  body TEXT NOT NULL,
  total INTEGER NOT NULL DEFAULT 0,
  completed INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  plan TEXT,
  cursor INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX IF NOT EXISTS batches_by_owner ON batches (owner, created_at, id);

-- The executed lines of a batch, keyed by line number and written with the line's outcome (its
-- output-file line, or an "r2:" pointer to it), so that a redelivered or retried run skips the lines
-- already done. `ok` says which file the line goes to. Removed once the output files are written.
CREATE TABLE IF NOT EXISTS batch_lines (
  batch_id TEXT NOT NULL,
  line INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  output TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  PRIMARY KEY (batch_id, line)
);

-- Stored chat completions (`store: true`): the completion as returned (`body`, JSON or an "r2:"
-- pointer), with the columns its list filters on; its request messages are the rows of
-- chat_completion_messages, by position.
CREATE TABLE IF NOT EXISTS chat_completions (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  model TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  body TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS chat_completions_by_owner ON chat_completions (owner, created_at, id);

CREATE TABLE IF NOT EXISTS chat_completion_messages (
  completion_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (completion_id, position)
);
