-- Migration 0006: batches and their executed lines; stored chat completions and their messages.

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
