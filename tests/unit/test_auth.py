"""api.auth: bearer keys checked against SHA-256 hashes in D1, a short per-isolate cache, and the
local dev key."""
import pytest

from api import auth
from api.errors import Unauthorized
from api.ports import Config
from api.web import ApiKey, ApiRequest
from unit.support import call, run

SECRET = "sk-live-0123456789abcdef"


def add_key(deps, secret=SECRET, key_id="key_1", project=None, revoked_at=None):
    run(deps.db.execute(
        "INSERT INTO api_keys (id, name, key_hash, prefix, project, created_at, revoked_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (key_id, "test key", auth.key_hash(secret), secret[:8], project, 1_700_000_000, revoked_at)))


def authenticate(deps, secret=SECRET):
    return run(auth.authenticate(ApiRequest("GET", "/v1/models", {"authorization": f"Bearer {secret}"}), deps))


def status(deps, secret=SECRET):
    return call(deps, "GET", "/v1/models", headers={"authorization": f"Bearer {secret}"}).status


def test_key_hash_is_sha256_hex():
    assert auth.key_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("project,owner", [("proj_1", "proj_1"), (None, "key_1")])
def test_stored_key_authenticates(deps, project, owner):
    add_key(deps, project=project)
    assert authenticate(deps) == ApiKey(id="key_1", owner=owner)


def test_stored_key_through_the_app(deps):
    add_key(deps)
    assert status(deps) == 200
    assert status(deps, SECRET + "x") == 401


@pytest.mark.parametrize("header", [f"bearer {SECRET}", f"BEARER {SECRET}", f"Bearer   {SECRET}  "])
def test_scheme_is_case_insensitive_and_spaces_are_trimmed(deps, header):
    add_key(deps)
    assert run(auth.authenticate(ApiRequest("GET", "/", {"authorization": header}), deps)).id == "key_1"


def test_revoked_key_is_refused(deps):
    add_key(deps, revoked_at=1_750_000_000)
    with pytest.raises(Unauthorized) as raised:
        authenticate(deps)
    assert (raised.value.status, raised.value.code) == (401, "invalid_api_key")


def test_verified_key_is_cached_for_cache_seconds(deps):
    add_key(deps)
    assert status(deps) == 200
    run(deps.db.execute("DELETE FROM api_keys"))
    deps.now.now += auth.CACHE_SECONDS - 1
    assert status(deps) == 200  # still cached: no D1 round trip
    deps.now.now += 1
    assert status(deps) == 401  # expired: D1 says the key is gone


def test_cache_does_not_admit_other_keys(deps):
    add_key(deps)
    assert status(deps) == 200
    assert status(deps, "sk-other") == 401


def test_local_dev_key_needs_no_row(deps):
    assert authenticate(deps, "sk-test") == auth.LOCAL_DEV
    assert run(deps.db.query("SELECT * FROM api_keys")) == []


def test_no_local_dev_key_outside_local(deps):
    deps.config = Config(local_dev_key=None)
    assert status(deps, "sk-test") == 401
    deps.config = Config(local_dev_key="")
    assert status(deps, "sk-test") == 401
