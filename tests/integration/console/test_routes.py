"""The console over HTTP: the static page's security headers, and the JSON routes — admin routes
refuse other keys with 403 (each route) and set limits that scripts/keys.py sees, usage is the
caller's project's only."""
import time

import httpx
import pytest

from integration.devserver import keys, sdk

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
ASSETS = ["/", "/static/app.js", "/static/api.js", "/static/dom.js", "/static/playground.js",
          "/static/snippets.js", "/static/usage.js", "/static/stored.js", "/static/keys.js", "/static/console.css"]


def bearer(key: str) -> dict:
    return {"authorization": f"Bearer {key}"}


@pytest.mark.parametrize("path", ASSETS)
def test_every_console_file_is_served_with_the_security_headers(server, path):
    response = httpx.get(server.url + path)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert (response.headers["x-frame-options"], response.headers["x-content-type-options"],
            response.headers["referrer-policy"]) == ("DENY", "nosniff", "no-referrer")
    kind = {"/": "text/html", ".js": "text/javascript", ".css": "text/css"}
    assert response.headers["content-type"].startswith(next(v for k, v in kind.items() if path.endswith(k)))


def test_the_headers_file_is_not_served(server):
    assert httpx.get(server.url + "/_headers").status_code == 404


@pytest.fixture(scope="module")
def plain(server):
    return keys(server, "create", "--name", "console routes plain")


@pytest.fixture(scope="module")
def admin(server):
    return keys(server, "create", "--name", "console routes admin", "--admin")


@pytest.mark.parametrize("method,path,body", [("GET", "/v1/console/keys", None),
                                              ("POST", "/v1/console/keys", {"name": "sneaky"}),
                                              ("DELETE", "/v1/console/keys/{admin}", None),
                                              ("POST", "/v1/console/keys/{admin}/limits",
                                               {"requests_per_minute": 1})])
@pytest.mark.parametrize("who", ["plain", "local-dev"])
def test_admin_routes_refuse_other_keys(server, plain, admin, method, path, body, who):
    key = plain["key"] if who == "plain" else "sk-local-dev"
    response = httpx.request(method, server.url + path.format(admin=admin["id"]), json=body, headers=bearer(key))
    assert (response.status_code, response.json()) == (403, {"error": {
        "message": "Managing API keys needs an admin key (scripts/keys.py create --admin).",
        "type": "invalid_request_error", "param": None, "code": "insufficient_permissions"}})
    me = httpx.get(server.url + "/v1/console/me", headers=bearer(admin["key"]))  # not revoked
    assert (me.status_code, me.json()["admin"]) == (200, True)
    [listed] = [k for k in keys(server, "list") if k["id"] == admin["id"]]
    assert listed["requests_per_minute"] is None  # nor limited


def test_admin_routes_list_create_limit_and_revoke(server, admin):
    headers = bearer(admin["key"])
    made = httpx.post(server.url + "/v1/console/keys", json={"name": "via http"}, headers=headers).json()
    assert made["key"].startswith("sk-wo-") and made["admin"] is False
    listed = httpx.get(server.url + "/v1/console/keys", headers=headers).json()
    assert made["id"] in [k["id"] for k in listed["data"]] and "key" not in listed["data"][0]
    limited = httpx.post(server.url + f"/v1/console/keys/{made['id']}/limits", headers=headers,
                         json={"tokens_per_day": 500, "models": ["gpt-4o"]})
    assert limited.json()["limits"] == {"requests_per_minute": None, "tokens_per_day": 500, "tokens_per_month": None,
                                        "models": ["gpt-4o"]}
    [seen] = [k for k in keys(server, "list") if k["id"] == made["id"]]  # the table scripts/keys.py reads
    assert (seen["tokens_per_day"], seen["models"]) == (500, '["gpt-4o"]')
    refused = httpx.post(server.url + f"/v1/console/keys/{made['id']}/limits", headers=headers,
                         json={"requests_per_minute": "10"})
    assert (refused.status_code, refused.json()["error"]) == (400, {
        "message": "Invalid type for 'requests_per_minute': expected an integer, but got a string instead.",
        "type": "invalid_request_error", "param": "requests_per_minute", "code": "invalid_type"})
    revoked = httpx.delete(server.url + f"/v1/console/keys/{made['id']}", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert httpx.get(server.url + "/v1/models", headers=bearer(made["key"])).status_code == 401


def test_me_says_who_the_key_is(server, plain, admin):
    assert httpx.get(server.url + "/v1/console/me", headers=bearer(plain["key"])).json() == {
        "object": "console.session", "key_id": plain["id"], "owner": plain["id"], "admin": False}
    assert httpx.get(server.url + "/v1/console/me", headers=bearer(admin["key"])).json()["admin"] is True
    assert httpx.get(server.url + "/v1/console/me").status_code == 401


def test_usage_is_the_callers_projects_only(server):
    first, second = (keys(server, "create", "--name", f"alpha {n}", "--project", "alpha") for n in (1, 2))
    other = keys(server, "create", "--name", "beta", "--project", "beta")
    for made, count in ((first, 1), (second, 2), (other, 4)):
        for _ in range(count):
            sdk(server, made["key"]).embeddings.create(model="text-embedding-3-small", input="usage please")

    def totals(made):
        body = httpx.get(server.url + "/v1/console/usage", headers=bearer(made["key"])).json()
        return body["owner"], sum(row["requests"] for row in body["data"])

    deadline = time.monotonic() + 20
    while (totals(first)[1], totals(other)[1]) != (3, 4) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert (totals(first), totals(second), totals(other)) == (("alpha", 3), ("alpha", 3), ("beta", 4))
