#!/usr/bin/env python3
"""Manage API keys and read usage, in the local D1 (default) or the deployed one (--remote).

  keys.py create --name NAME [--project P] [--admin] [LIMITS]
                                   prints the new key once; only its hash is stored; admin keys may
                                   manage keys in the console
  keys.py list                     keys, admin flags and limits
  keys.py limits KEY_ID [LIMITS]   set limits (running isolates see them within a minute); the
                                   console's Keys page does the same, through api.key_limits
  keys.py revoke KEY_ID
  keys.py usage [--days N]         requests and tokens per key and model per day

LIMITS (each optional; "none" removes one): --requests-per-minute N, --tokens-per-day N,
--tokens-per-month N (UTC days and months, from the recorded usage), --models NAME[,NAME...]
(OpenAI names or Workers AI ids; a name allows every name of the same model).

It drives `wrangler d1 execute`, which takes no bound parameters, so every value is either
generated here or passed through `literal()` (SQLite string quoting, NUL refused). Limits are
validated and their upsert built by the worker's own api.key_limits (src/ is put on the path).
"""
import argparse
import hashlib
import json
import os
import pathlib
import secrets
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.append(str(ROOT / "python_modules"))  # the worker's pydantic, for a Python that has none

from api import key_limits  # noqa: E402  (the worker's code, found through the path above)
from api.errors import ApiError  # noqa: E402


def literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if "\x00" in text:
        raise SystemExit("values must not contain NUL characters")
    return "'" + text.replace("'", "''") + "'"


# A local `wrangler dev` writing the same SQLite file (usage rows) can hold its lock for a moment.
BUSY = ("SQLITE_BUSY", "database is locked")
BUSY_WAITS = (0.5, 1, 2, 0)


def d1(args, sql: str) -> list:
    where = ["--remote"] if args.remote else ["--local", "--env", "local"]
    if args.persist_to and not args.remote:
        where += ["--persist-to", args.persist_to]
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'node' / 'bin'}:{os.environ['PATH']}",
           "WRANGLER_SEND_METRICS": "false", "NO_COLOR": "1"}
    for wait in BUSY_WAITS:
        done = subprocess.run([str(ROOT / "node_modules" / ".bin" / "wrangler"), "d1", "execute", "DB",
                               *where, "--json", "--command", sql],
                              cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode == 0 or not any(sign in done.stdout + done.stderr for sign in BUSY):
            break
        time.sleep(wait)
    if done.returncode != 0:
        raise SystemExit(f"wrangler d1 execute failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout)[0]["results"]


OPTIONS = {column: column.replace("_", "-") for column in key_limits.COLUMNS}  # --requests-per-minute
NONE = "none"


def limit_value(text: str):
    """A limit as the API takes it: "none" is null, integer text an integer; other text stays text,
    which api.key_limits refuses as the console's route would."""
    if text == NONE:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def models_value(text: str):
    return None if text == NONE else [name for name in text.split(",") if name.strip()]


def add_limit_options(parser) -> None:
    for column, option in OPTIONS.items():
        parser.add_argument(f"--{option}", dest=column, default=argparse.SUPPRESS,
                            type=models_value if column == "models" else limit_value)


def rendered(statement) -> str:
    """A statement with bound parameters as SQL text: each ? replaced by its value's literal()."""
    sql, params = statement
    parts = sql.split("?")
    assert len(parts) == len(params) + 1
    return parts[0] + "".join(literal(value) + part for value, part in zip(params, parts[1:]))


def limits_sql(key_id: str, args) -> str:
    """The upsert of the limits given on the command line ("" when none were), validated and built
    by api.key_limits, the same as the console's POST /v1/console/keys/{key_id}/limits."""
    given = {column: getattr(args, column) for column in OPTIONS if hasattr(args, column)}
    try:
        statement = key_limits.upsert(key_id, given, time.time())
    except ApiError as exc:
        raise SystemExit(f"--{OPTIONS[exc.param.partition('[')[0]]}: {exc.message}") from None
    return rendered(statement) if statement else ""


def create(args) -> None:
    secret = "sk-wo-" + secrets.token_urlsafe(32)
    key_id = "key_" + secrets.token_hex(8)
    statements = ["INSERT INTO api_keys (id, name, key_hash, prefix, project, created_at) VALUES ("
                  + ", ".join(literal(v) for v in (key_id, args.name, hashlib.sha256(secret.encode()).hexdigest(),
                                                    secret[:10], args.project, int(time.time()))) + ")",
                  limits_sql(key_id, args)]
    if args.admin:  # the admin row in the same wrangler call
        statements.append(f"INSERT INTO admin_keys (key_id) VALUES ({literal(key_id)})")
    d1(args, "; ".join(statement for statement in statements if statement))
    kind = "admin key" if args.admin else "key"
    print(json.dumps({"id": key_id, "name": args.name, "admin": args.admin, "key": secret}) if args.json else
          f"created {kind} {key_id} ({args.name}); the key is shown only now:\n{secret}")


def show(args, rows: list) -> None:
    if args.json:
        print(json.dumps(rows))
        return
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items()))


SHOW_LIMITS = "l.requests_per_minute, l.tokens_per_day, l.tokens_per_month, l.models"


def list_keys(args) -> None:
    show(args, d1(args, "SELECT k.id, k.name, k.prefix, k.project, a.key_id IS NOT NULL AS admin, k.created_at, "
                        f"k.revoked_at, {SHOW_LIMITS} FROM api_keys k LEFT JOIN admin_keys a ON a.key_id = k.id "
                        "LEFT JOIN key_limits l ON l.key_id = k.id ORDER BY k.created_at"))


def set_limits(args) -> None:
    found = d1(args, f"SELECT id FROM api_keys WHERE id = {literal(args.key_id)}")
    if not found:
        raise SystemExit(f"no key {args.key_id}")
    statement = limits_sql(args.key_id, args)
    if statement:
        d1(args, statement)
    show(args, d1(args, f"SELECT k.id, {SHOW_LIMITS} FROM api_keys k LEFT JOIN key_limits l "
                        f"ON l.key_id = k.id WHERE k.id = {literal(args.key_id)}"))


def revoke(args) -> None:
    d1(args, f"UPDATE api_keys SET revoked_at = {int(time.time())} WHERE id = {literal(args.key_id)}"
             " AND revoked_at IS NULL")
    print(f"revoked {args.key_id} (running isolates may accept it for up to a minute more)")


def usage(args) -> None:
    show(args, d1(args, "SELECT key_id, model, day, requests, prompt_tokens, completion_tokens "
                        f"FROM usage_daily WHERE day >= date('now', {literal(f'-{args.days} days')}) "
                        "ORDER BY day, key_id, model"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--remote", action="store_true", help="use the deployed D1 database")
    parser.add_argument("--persist-to", help="local state directory (default: wrangler's .wrangler/state)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create")
    made.add_argument("--name", required=True)
    made.add_argument("--project", help="keys of one project share stored objects")
    made.add_argument("--admin", action="store_true", help="may list, create and revoke keys in the console")
    add_limit_options(made)
    made.set_defaults(run=create)
    commands.add_parser("list").set_defaults(run=list_keys)
    limited = commands.add_parser("limits")
    limited.add_argument("key_id")
    add_limit_options(limited)
    limited.set_defaults(run=set_limits)
    revoked = commands.add_parser("revoke")
    revoked.add_argument("key_id")
    revoked.set_defaults(run=revoke)
    used = commands.add_parser("usage")
    used.add_argument("--days", type=int, default=30)
    used.set_defaults(run=usage)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
