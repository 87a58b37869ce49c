"""/v1/console/keys: list, create and revoke API keys, for admin keys only (those in the
admin_keys table: `scripts/keys.py create --admin`; the console never makes admin keys). Others get 403.

Admin rights are read from D1 on every call (not from the auth cache), so taking them away or
revoking the key takes effect at once here."""
import secrets

from api import auth, pages
from api.errors import NotFound, PermissionDenied
from api.ports import Deps, Row
from api.types.console import ConsoleListParams, KeyCreateParams
from api.validate import parse_request, parse_text
from api.web import ApiRequest, ApiResponse

COLUMNS = "id, name, prefix, project, admin_keys.key_id IS NOT NULL AS admin, created_at, revoked_at"
KEYS = "api_keys LEFT JOIN admin_keys ON admin_keys.key_id = api_keys.id"


def key_object(row: Row) -> dict:
    return {"object": "api_key", "id": row["id"], "name": row["name"], "prefix": row["prefix"],
            "project": row["project"], "admin": bool(row["admin"]), "created_at": row["created_at"],
            "revoked_at": row["revoked_at"]}


def mint() -> tuple:
    """(key id, secret): the same shapes as scripts/keys.py makes."""
    return "key_" + secrets.token_hex(8), "sk-wo-" + secrets.token_urlsafe(32)


async def is_admin(req: ApiRequest, deps: Deps) -> bool:
    rows = await deps.db.query("SELECT 1 FROM admin_keys JOIN api_keys ON api_keys.id = admin_keys.key_id "
                               "WHERE key_id = ? AND revoked_at IS NULL", (req.key.id,))
    return bool(rows)


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
           "admin": 0, "created_at": int(deps.now()), "revoked_at": None}
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
    rows = await deps.db.query(f"SELECT {COLUMNS} FROM {KEYS} WHERE id = ?", (key_id,))
    if not rows:
        raise NotFound(f"No API key found with id '{key_id}'.", param="key_id")
    return ApiResponse(key_object(rows[0]))
