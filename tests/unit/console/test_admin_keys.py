"""/v1/console/keys: admin keys list, create (the secret shown once), revoke and set limits; others
get 403."""
import pytest

from api import auth
from unit.console.keys_support import CREATED, add_key
from unit.support import NOW, call, error

REFUSED = error("Managing API keys needs an admin key (scripts/keys.py create --admin).",
                code="insufficient_permissions")
ROUTES = [("GET", "/v1/console/keys", None), ("POST", "/v1/console/keys", {"name": "new"}),
          ("DELETE", "/v1/console/keys/key_plain", None),
          ("POST", "/v1/console/keys/key_plain/limits", {"requests_per_minute": 1000})]
NO_LIMITS = {"requests_per_minute": None, "tokens_per_day": None, "tokens_per_month": None, "models": None}


@pytest.fixture
def admin(deps):
    return add_key(deps, "key_admin", admin=True)


def keys(deps, headers):
    return call(deps, "GET", "/v1/console/keys", headers=headers).body["data"]


@pytest.mark.parametrize("method,path,body", ROUTES, ids=lambda v: v if isinstance(v, str) else None)
@pytest.mark.parametrize("who", ["plain", "revoked admin", "local dev"])
def test_every_route_refuses_keys_that_are_not_admin(deps, method, path, body, who):
    headers = {"plain": lambda: add_key(deps, "key_plain", project="p"),
               "revoked admin": lambda: add_key(deps, "key_old", admin=True, revoked_at=CREATED + 1),
               "local dev": lambda: None}[who]()
    if who == "revoked admin":  # revoked after it was verified: the auth cache still accepts it
        deps.isolate.keys[auth.key_hash("sk-wo-key_old-secret")] = (auth.ApiKey("key_old", "key_old"), NOW + 60)
    state = "SELECT COUNT(*), COUNT(revoked_at), (SELECT COUNT(*) FROM key_limits) FROM api_keys"
    before = deps.db.conn.execute(state).fetchone()
    response = call(deps, method, path, body, headers=headers)
    assert (response.status, response.body) == (403, REFUSED)
    assert deps.db.conn.execute(state).fetchone() == before


def test_create_shows_the_secret_once_and_the_key_works(deps, admin):
    made = call(deps, "POST", "/v1/console/keys", {"name": " ci bot ", "project": "proj"}, headers=admin)
    assert made.status == 200, made.body
    secret = made.body.pop("key")
    assert secret.startswith("sk-wo-") and len(secret) > 40
    assert made.body == {"object": "api_key", "id": made.body["id"], "name": "ci bot", "prefix": secret[:10],
                         "project": "proj", "admin": False, "created_at": NOW, "revoked_at": None,
                         "limits": NO_LIMITS}
    assert made.body["id"].startswith("key_")
    assert secret not in str(deps.db.conn.execute("SELECT * FROM api_keys").fetchall())  # only its hash
    me = call(deps, "GET", "/v1/console/me", headers={"authorization": f"Bearer {secret}"}).body
    assert (me["key_id"], me["owner"], me["admin"]) == (made.body["id"], "proj", False)
    listed = keys(deps, admin)
    assert [k["id"] for k in listed] == [made.body["id"], "key_admin"]  # newest first
    assert "key" not in listed[0]


@pytest.mark.parametrize("body,param", [({}, "name"), ({"name": ""}, "name"), ({"name": 3}, "name"),
                                        ({"name": "x", "project": "  "}, "project")])
def test_create_validates(deps, admin, body, param):
    response = call(deps, "POST", "/v1/console/keys", body, headers=admin)
    assert (response.status, response.body["error"]["param"]) == (400, param)


def test_revoke_stops_the_key_and_keeps_its_row(deps, admin):
    victim = add_key(deps, "key_victim")
    assert call(deps, "GET", "/v1/models", headers=victim).status == 200  # now in the auth cache
    response = call(deps, "DELETE", "/v1/console/keys/key_victim", headers=admin)
    assert (response.status, response.body["id"], response.body["revoked_at"]) == (200, "key_victim", NOW)
    assert call(deps, "GET", "/v1/models", headers=victim).status == 401  # at once in this isolate
    again = call(deps, "DELETE", "/v1/console/keys/key_victim", headers=admin)  # idempotent
    assert (again.status, again.body["revoked_at"]) == (200, NOW)
    assert [k["revoked_at"] for k in keys(deps, admin) if k["id"] == "key_victim"] == [NOW]


def test_revoking_an_unknown_key_is_404(deps, admin):
    response = call(deps, "DELETE", "/v1/console/keys/key_nope", headers=admin)
    assert (response.status, response.body) == (404, error("No API key found with id 'key_nope'.", "key_id"))


def test_list_pages_with_after(deps, admin):
    for n in range(3):
        add_key(deps, f"key_{n}", created_at=CREATED + 10 + n)
    first = call(deps, "GET", "/v1/console/keys", headers=admin, query={"limit": "2"}).body
    assert ([k["id"] for k in first["data"]], first["has_more"]) == (["key_2", "key_1"], True)
    rest = call(deps, "GET", "/v1/console/keys", headers=admin, query={"after": "key_1"}).body
    assert ([k["id"] for k in rest["data"]], rest["has_more"]) == (["key_0", "key_admin"], False)
    unknown = call(deps, "GET", "/v1/console/keys", headers=admin, query={"after": "key_x"})
    assert (unknown.status, unknown.body["error"]["param"]) == (400, "after")


def set_limits(deps, headers, key_id, body):
    return call(deps, "POST", f"/v1/console/keys/{key_id}/limits", body, headers=headers)


def test_limits_are_set_shown_and_kept_when_left_out(deps, admin):
    add_key(deps, "key_worker")
    made = set_limits(deps, admin, "key_worker", {"requests_per_minute": 60, "models": ["gpt-4o"]})
    assert (made.status, made.body["id"], made.body["limits"]) == (200, "key_worker", {
        **NO_LIMITS, "requests_per_minute": 60, "models": ["gpt-4o"]})
    changed = set_limits(deps, admin, "key_worker", {"tokens_per_day": 500, "models": None})
    assert changed.body["limits"] == {**NO_LIMITS, "requests_per_minute": 60, "tokens_per_day": 500}
    listed = {k["id"]: k["limits"] for k in keys(deps, admin)}
    assert listed == {"key_worker": changed.body["limits"], "key_admin": NO_LIMITS}


def test_new_limits_apply_to_the_keys_next_request_in_this_isolate(deps, admin):
    worker = add_key(deps, "key_worker")
    deps.now.now = NOW + 1  # a fresh window of the rate limiter
    assert call(deps, "GET", "/v1/models", headers=worker).status == 200  # now in the auth cache
    assert set_limits(deps, admin, "key_worker", {"requests_per_minute": 1}).status == 200
    assert call(deps, "GET", "/v1/models", headers=worker).status == 200
    refused = call(deps, "GET", "/v1/models", headers=worker)
    assert (refused.status, refused.body["error"]["code"]) == (429, "rate_limit_exceeded")


@pytest.mark.parametrize("body,status,param,code", [
    ({}, 400, None, "missing_required_parameter"),
    ({"requests_per_minute": -1}, 400, "requests_per_minute", "invalid_value"),
    ({"tokens_per_month": "100"}, 400, "tokens_per_month", "invalid_type"),
    ({"models": [3]}, 400, "models[0]", "invalid_type"),
])
def test_limits_are_validated(deps, admin, body, status, param, code):
    add_key(deps, "key_worker")
    response = set_limits(deps, admin, "key_worker", body)
    assert (response.status, response.body["error"]["param"], response.body["error"]["code"]) == (status, param, code)
    assert deps.db.conn.execute("SELECT COUNT(*) FROM key_limits").fetchone()[0] == 0


def test_limits_of_an_unknown_key_are_404_and_stored_nowhere(deps, admin):
    response = set_limits(deps, admin, "key_nope", {"tokens_per_day": 5})
    assert (response.status, response.body) == (404, error("No API key found with id 'key_nope'.", "key_id"))
    assert deps.db.conn.execute("SELECT COUNT(*) FROM key_limits").fetchone()[0] == 0
