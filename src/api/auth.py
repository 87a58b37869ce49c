"""API keys: `Authorization: Bearer <key>` checked against SHA-256 hashes in D1.

Verified keys are cached in the isolate (deps.isolate) for a short time so the hot path costs no D1 round
trip; a revoked key therefore stops working within CACHE_SECONDS. The same read brings the key's
limits and, for a key with token budgets, its totals for today and this month (api.limits)."""
import hashlib
import hmac
from typing import Optional

from api import limits
from api.errors import Unauthorized
from api.ports import Deps
from api.web import ApiKey, ApiRequest

CACHE_SECONDS = 60.0
LOCAL_DEV = ApiKey(id="local-dev", owner="local-dev")


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def bearer(req: ApiRequest) -> str:
    scheme, _, secret = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("You didn't provide an API key. You need to provide your API key in an "
                           "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                           "YOUR_KEY).", code="missing_api_key")
    return secret.strip()


async def authenticate(req: ApiRequest, deps: Deps) -> ApiKey:
    secret = bearer(req)
    local = deps.config.local_dev_key
    if local and hmac.compare_digest(secret.encode(), local.encode()):
        return LOCAL_DEV
    digest = key_hash(secret)
    cached = deps.isolate.keys.get(digest)
    if cached and cached[1] > deps.now():
        return cached[0]
    rows = await _read(deps, "k.key_hash", digest)
    if not rows or not hmac.compare_digest(rows[0]["key_hash"], digest):
        raise Unauthorized("Incorrect API key provided. You can create and revoke keys with "
                           "scripts/keys.py.")
    key = _key(deps, rows[0])
    deps.isolate.keys[digest] = (key, deps.now() + CACHE_SECONDS)
    return key


def forget(deps: Deps, key_id: str) -> None:
    """Drops the key from this isolate's cache, so its next request reads it (revoked, new limits)
    again; other isolates see the change within CACHE_SECONDS."""
    for digest, (key, _) in list(deps.isolate.keys.items()):
        if key.id == key_id:
            del deps.isolate.keys[digest]


async def by_id(deps: Deps, key_id: str) -> Optional[ApiKey]:
    """The key as authenticate() makes it (limits, token totals), for work done later on its behalf
    (batch lines); None once it is revoked."""
    if deps.config.local_dev_key and key_id == LOCAL_DEV.id:
        return LOCAL_DEV
    rows = await _read(deps, "k.id", key_id)
    return _key(deps, rows[0]) if rows else None


async def _read(deps: Deps, column: str, value: str) -> list:
    day = limits.utc_day(deps.now())
    return await deps.db.query(KEY + f"{column} = ? AND k.revoked_at IS NULL", (day, day[:7] + "-01", value))


def _key(deps: Deps, row: dict) -> ApiKey:
    key = ApiKey(id=row["id"], owner=row["project"] or row["id"], limits=limits.KeyLimits.of_row(row))
    if row["day_tokens"] is not None:
        limits.remember_spend(deps, key.id, limits.utc_day(deps.now()), row["day_tokens"], row["month_tokens"])
    return key


# The key, its limits, and (only for keys with a token budget) its tokens today and this month.
KEY = """
SELECT k.id, k.key_hash, k.project,
       l.requests_per_minute, l.tokens_per_day, l.tokens_per_month, l.models,
       CASE WHEN l.tokens_per_day IS NULL AND l.tokens_per_month IS NULL THEN NULL ELSE
         (SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM usage_daily
          WHERE key_id = k.id AND day = ?) END AS day_tokens,
       CASE WHEN l.tokens_per_day IS NULL AND l.tokens_per_month IS NULL THEN NULL ELSE
         (SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM usage_daily
          WHERE key_id = k.id AND day >= ?) END AS month_tokens
FROM api_keys k LEFT JOIN key_limits l ON l.key_id = k.id
WHERE """
