-- Migration 0005: Assistants v2 — assistants, threads, their messages, runs and run steps.

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
