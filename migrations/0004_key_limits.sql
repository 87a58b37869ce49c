-- Migration 0004: optional per-key limits (scripts/keys.py limits), and an index for the budget
-- totals the worker reads with a key (tokens of one key for one day or since a month's start).

-- A key's limits; a NULL column is no limit. `models`: a JSON array of the model names (or ids) the
-- key may use, NULL for all. One row per key that has any limit.
CREATE TABLE IF NOT EXISTS key_limits (
  key_id TEXT PRIMARY KEY,
  requests_per_minute INTEGER,
  tokens_per_day INTEGER,
  tokens_per_month INTEGER,
  models TEXT,
  updated_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS usage_daily_by_key_day ON usage_daily (key_id, day);
