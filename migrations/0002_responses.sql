-- Migration 0002: stored responses and conversations, their items, background runs and their event logs.

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
