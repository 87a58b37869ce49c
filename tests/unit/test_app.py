"""api.app.handle: preflight, CORS and request ids on every response, auth before the body limit,
and the one catch that turns errors into OpenAI error bodies."""
import json

import pytest

from api import app
from api.errors import workers_ai_error
from api.web import ApiRequest, StreamResponse
from unit.support import call, drain, error, native, native_stream, post, run

CORS = {"access-control-allow-origin": "*", "access-control-expose-headers": (
    "x-request-id, retry-after, x-ratelimit-limit-requests, x-ratelimit-remaining-requests, "
    "x-ratelimit-reset-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens")}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
MISSING_KEY = ("You didn't provide an API key. You need to provide your API key in an Authorization "
               "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
WRONG_KEY = "Incorrect API key provided. You can create and revoke keys with scripts/keys.py."
INTERNAL = error("The server had an error while processing your request. Sorry about that!",
                 type="server_error")


def test_preflight_needs_no_key(deps):
    req = ApiRequest("OPTIONS", "/v1/chat/completions", {
        "origin": "https://example.com", "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type"})
    response = run(app.handle(req, deps))
    assert (response.status, response.body) == (204, None)
    assert response.headers == {
        **CORS, "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
        "access-control-max-age": "86400", "access-control-allow-headers": "authorization, content-type",
        "x-request-id": "req_0001"}


def test_preflight_allows_any_headers_when_none_are_named(deps):
    response = run(app.handle(ApiRequest("OPTIONS", "/v1/models", {}), deps))
    assert response.headers["access-control-allow-headers"] == "*"


def _scripted(deps, result):
    deps.ai.answer(result)
    return deps


# name → (how to set deps up, method, path, body, extra request fields, expected status)
RESPONSES = {
    "ok": (lambda d: d, "GET", "/v1/models", None, {}, 200),
    "chat": (lambda d: _scripted(d, native("hello")), "POST", "/v1/chat/completions", CHAT, {}, 200),
    "stream": (lambda d: _scripted(d, native_stream(["hi"], completion=1)), "POST", "/v1/chat/completions",
               {**CHAT, "stream": True}, {}, 200),
    "not-found": (lambda d: d, "GET", "/v1/nope", None, {}, 404),
    "not-allowed": (lambda d: d, "DELETE", "/v1/models", None, {}, 405),
    "no-key": (lambda d: d, "GET", "/v1/models", None, {"headers": {"authorization": ""}}, 401),
    "bad-body": (lambda d: d, "POST", "/v1/chat/completions", b"[", {}, 400),
    "too-large": (lambda d: d, "POST", "/v1/embeddings", None, {"oversized": True}, 413),
    "upstream": (lambda d: _scripted(d, workers_ai_error(3040, "Capacity temporarily exceeded", "m")),
                 "POST", "/v1/chat/completions", CHAT, {}, 429),
    "crash": (lambda d: _scripted(d, RuntimeError("boom")), "POST", "/v1/chat/completions", CHAT, {}, 500),
}


@pytest.mark.parametrize("setup,method,path,body,fields,status", RESPONSES.values(), ids=RESPONSES.keys())
def test_every_response_has_cors_and_a_request_id(deps, setup, method, path, body, fields, status):
    response = call(setup(deps), method, path, body, **fields)
    assert response.status == status
    assert {k: response.headers.get(k) for k in CORS} == CORS
    assert response.headers["x-request-id"] == "req_0001"
    run(drain(deps))


def test_stream_keeps_its_sse_headers(deps):
    deps.ai.answer(native_stream(["hi"], completion=1))
    response = post(deps, "/v1/chat/completions", {**CHAT, "stream": True})
    assert isinstance(response, StreamResponse)
    assert response.headers == {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache",
                                **CORS, "x-request-id": "req_0001"}


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer    ", "Basic c2stdGVzdDo=", "sk-test"])
def test_missing_key_is_401(deps, authorization):
    headers = {"content-type": "application/json"}
    if authorization is not None:
        headers["authorization"] = authorization
    response = run(app.handle(ApiRequest("GET", "/v1/models", headers), deps))
    assert (response.status, response.body) == (401, error(MISSING_KEY, code="missing_api_key"))


def test_wrong_key_is_401(deps):
    response = call(deps, "GET", "/v1/models", headers={"authorization": "Bearer sk-wrong"})
    assert (response.status, response.body) == (401, error(WRONG_KEY, code="invalid_api_key"))


def test_oversized_body_is_checked_after_auth(deps):
    anonymous = call(deps, "POST", "/v1/chat/completions", headers={"authorization": ""}, oversized=True)
    assert (anonymous.status, anonymous.body["error"]["code"]) == (401, "missing_api_key")
    response = call(deps, "POST", "/v1/chat/completions", oversized=True)
    assert (response.status, response.body) == (413, error(
        "Request body too large: the limit is 16777216 bytes.", code="request_too_large"))


def test_unexpected_exception_is_a_generic_500(deps):
    logged = []
    deps.log = logged.append
    deps.ai.answer(RuntimeError("secret detail at /srv/app.py"))
    response = post(deps, "/v1/chat/completions", CHAT)
    assert (response.status, response.body) == (500, INTERNAL)
    text = json.dumps(response.body)
    assert "secret detail" not in text and "Traceback" not in text
    assert len(logged) == 1
    assert logged[0].startswith("req_0001 POST /v1/chat/completions failed:")
    assert "RuntimeError: secret detail" in logged[0]
    assert "sk-test" not in logged[0]

