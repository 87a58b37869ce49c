"""Keys in the fake D1 for the console tests: (id, secret) per key, with project and admin flags."""
from api import auth
from unit.support import run

CREATED = 1_700_000_000


def add_key(deps, key_id: str, project=None, admin=False, revoked_at=None, created_at=CREATED) -> dict:
    """Inserts a key and returns the headers that authenticate with it."""
    secret = f"sk-wo-{key_id}-secret"
    run(deps.db.execute(
        "INSERT INTO api_keys (id, name, key_hash, prefix, project, created_at, revoked_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (key_id, f"{key_id} name", auth.key_hash(secret), secret[:10], project, created_at, revoked_at)))
    if admin:
        run(deps.db.execute("INSERT INTO admin_keys (key_id) VALUES (?)", (key_id,)))
    return {"authorization": f"Bearer {secret}"}


def add_usage(deps, key_id: str, model: str, day: str, requests: int, prompt: int, completion: int) -> None:
    run(deps.db.execute("INSERT INTO usage_daily (key_id, model, day, requests, prompt_tokens, completion_tokens) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (key_id, model, day, requests, prompt, completion)))
