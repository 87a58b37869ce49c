"""/v1/console/keys: list, create and revoke API keys and set their limits, for admin keys only
(those in the admin_keys table: `scripts/keys.py create --admin`; the console never makes admin
keys). Others get 403.

Admin rights are read from D1 on every call (not from the auth cache), so taking them away or
revoking the key takes effect at once here."""
import secrets
from dataclasses import asdict

from api import auth, key_limits, pages
from api.errors import InvalidRequest, NotFound, PermissionDenied
from api.limits import KeyLimits
from api.ports import Deps, Row
from api.types.console import ConsoleListParams, KeyCreateParams
from api.validate import json_body, parse_request, parse_text
from api.web import ApiRequest, ApiResponse

COLUMNS = ("id, name, prefix, project, admin_keys.key_id IS NOT NULL AS admin, created_at, revoked_at, "
           "requests_per_minute, tokens_per_day, tokens_per_month, models")
KEYS = ("api_keys LEFT JOIN admin_keys ON admin_keys.key_id = api_keys.id "
        "LEFT JOIN key_limits ON key_limits.key_id = api_keys.id")


def key_object(row: Row) -> dict:
    limits = KeyLimits.of_row(row) or KeyLimits()
    return {"object": "api_key", "id": row["id"], "name": row["name"], "prefix": row["prefix"],
            "project": row["project"], "admin": bool(row["admin"]), "created_at": row["created_at"],
            "revoked_at": row["revoked_at"],
            "limits": {**asdict(limits), "models": None if limits.models is None else list(limits.models)}}


def mint() -> tuple:
    """(key id, secret): the same shapes as scripts/keys.py makes."""
    return "key_" + secrets.token_hex(8), "sk-wo-" + secrets.token_urlsafe(32)


async def is_admin(req: ApiRequest, deps: Deps) -> bool:
    rows = await deps.db.query("SELECT 1 FROM admin_keys JOIN api_keys ON api_keys.id = admin_keys.key_id "
                               "WHERE key_id = ? AND revoked_at IS NULL", (req.key.id,))
    return bool(rows)


async def _find(deps: Deps, key_id: str) -> Row:
    rows = await deps.db.query(f"SELECT {COLUMNS} FROM {KEYS} WHERE id = ?", (key_id,))
    if not rows:
        raise NotFound(f"No API key found with id '{key_id}'.", param="key_id")
    return rows[0]


async def _require_admin(req: ApiRequest, deps: Deps) -> None:
    if not await is_admin(req, deps):
        raise PermissionDenied("Managing API keys needs an admin key (scripts/keys.py create --admin).",
                               code="insufficient_permissions")


async def list_api_keys(req: ApiRequest, deps: Deps) -> ApiResponse:
    await _require_admin(req, deps)
    params = parse_text(ConsoleListParams, req.query)
    # Every key of the deployment: an admin manages them all.
    return ApiResponse(await pages.page(deps, pages.Listing(KEYS, COLUMNS, [], "key"), params, key_object))


async def create_api_key(req: ApiRequest, deps: Deps) -> ApiResponse:
    await _require_admin(req, deps)
    params = parse_request(KeyCreateParams, req)
    key_id, secret = mint()
    row = {"id": key_id, "name": params.name, "prefix": secret[:10], "project": params.project,
           "admin": 0, "created_at": int(deps.now()), "revoked_at": None}  # and no limits yet
    await deps.db.execute("INSERT INTO api_keys (id, name, key_hash, prefix, project, created_at) "
                          "VALUES (?, ?, ?, ?, ?, ?)",
                          (key_id, params.name, auth.key_hash(secret), row["prefix"],
                           params.project, row["created_at"]))
    return ApiResponse({**key_object(row), "key": secret})  # the only time the secret is shown


async def delete_api_key(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Revokes the key (the row stays, for usage history). Isolates that verified it recently may
    accept it for up to api.auth.CACHE_SECONDS more."""
    await _require_admin(req, deps)
    key_id = req.params["key_id"]
    await deps.db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                          (int(deps.now()), key_id))
    auth.forget(deps, key_id)
    return ApiResponse(key_object(await _find(deps, key_id)))


async def update_api_key_limits(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Sets the limits in the body (api.key_limits; a limit left out keeps its value, null removes
    it). This isolate applies them from the key's next request; isolates that verified the key
    recently keep the old ones for up to api.auth.CACHE_SECONDS."""
    await _require_admin(req, deps)
    key_id = req.params["key_id"]
    statement = key_limits.upsert(key_id, json_body(req), deps.now())
    if statement is None:
        raise InvalidRequest(f"Set at least one limit: {', '.join(key_limits.COLUMNS)}.",
                             code="missing_required_parameter")
    await _find(deps, key_id)
    await deps.db.execute(*statement)
    auth.forget(deps, key_id)
    return ApiResponse(key_object(await _find(deps, key_id)))
