"""API keys: `Authorization: Bearer <key>` checked against SHA-256 hashes in D1.

Verified keys are cached in the isolate (deps.isolate) for a short time so the hot path costs no D1 round
trip; a revoked key therefore stops working within CACHE_SECONDS."""
import hashlib
import hmac
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
    rows = await deps.db.query(
        "SELECT id, key_hash, project FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
        (digest,))
    if not rows or not hmac.compare_digest(rows[0]["key_hash"], digest):
        raise Unauthorized("Incorrect API key provided. You can create and revoke keys with "
                           "scripts/keys.py.")
    key = ApiKey(id=rows[0]["id"], owner=rows[0]["project"] or rows[0]["id"])
    deps.isolate.keys[digest] = (key, deps.now() + CACHE_SECONDS)
    return key
