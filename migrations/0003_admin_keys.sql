-- Migration 0003: admin keys, which may list, create and revoke keys in the console (/v1/console/keys).

-- Keys that may manage keys in the console (scripts/keys.py create --admin). A table of its own
-- rather than a column: SQLite cannot add a column idempotently, and migrations must be.
CREATE TABLE IF NOT EXISTS admin_keys (
  key_id TEXT PRIMARY KEY REFERENCES api_keys (id)
);
