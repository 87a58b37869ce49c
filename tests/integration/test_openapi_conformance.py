"""The spec hook (spec_check.py) itself: it sees every route, it fails a body that breaks its
schema (JSON or SSE), it lets through exactly the listed deviations; and a request per shape of
answer, so that each is checked even if no other test asks for it."""
import re

import httpx
import pytest

import openai_spec
from api.routes import ROUTES
from integration import spec_check

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello spec"}]}
OURS = {("GET", "/v1/images/content/{key:path}"): "signed URLs of image results, served without a key",
        **{(r.method, r.template): "the console's own routes" for r in ROUTES if r.template.startswith("/v1/console/")}}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.template}")
def test_every_route_is_an_operation_of_the_document_or_our_own(route):
    path = re.sub(r"\{(\w+)(:path)?\}", r"\1_x", route.template)
    assert openai_spec.operation(route.method, path) or (route.method, route.template) in OURS


def answer(server, method: str, path: str, body: bytes, content_type: str = "application/json"):
    request = httpx.Request(method, server.url + path)
    return request, httpx.Response(200, headers={"content-type": content_type}, content=body, request=request)


def test_the_hook_fails_a_body_that_breaks_the_schema(server):
    request, response = answer(server, "GET", "/v1/models", b'{"object": "list", "data": "no"}')
    with pytest.raises(AssertionError, match=r"GET /models → 200 does not match .*\n  data: 'no' is not of type"):
        spec_check.check(request, response)


def test_the_hook_fails_an_event_that_breaks_the_schema(server):
    events = b'data: {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": []}\n\n' \
             b'data: {"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": []}\n\n'
    request, response = answer(server, "POST", "/v1/chat/completions", events, "text/event-stream")
    spec_check.check(request, response)
    with pytest.raises(AssertionError, match=r"\(event\) does not match .*\n  object: 'chat.completion' is not one"):
        b"".join(response.stream)


def test_the_hook_lets_through_listed_deviations_only(server):
    empty = b'{"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": false}'
    spec_check.check(*answer(server, "GET", "/v1/files", empty))
    with pytest.raises(AssertionError, match="first_id: 7 is not of type"):
        spec_check.check(*answer(server, "GET", "/v1/files", empty.replace(b'"first_id": null', b'"first_id": 7')))


def test_models(http):
    http.get("/v1/models")
    http.get("/v1/models/gpt-4o-mini")


@pytest.mark.parametrize("model", ["gpt-4o-mini", "@cf/zai-org/glm-4.7-flash"])
@pytest.mark.parametrize("stream", [False, True])
def test_chat_completion(http, model, stream):
    body = {**CHAT, "model": model, "stream": stream, **({"stream_options": {"include_usage": True}} if stream else {})}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        response.read()


@pytest.mark.parametrize("stream", [False, True])
def test_completion(http, stream):
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["one", "two"], "stream": stream}
    with http.stream("POST", "/v1/completions", json=body) as response:
        assert response.status_code == 200
        response.read()


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_embeddings(http, encoding_format):
    body = {"model": "text-embedding-3-small", "input": ["a b", "c"], "encoding_format": encoding_format}
    assert http.post("/v1/embeddings", json=body).status_code == 200


@pytest.mark.parametrize("method, path, body, status", [
    ("POST", "/v1/chat/completions", {"model": "gpt-4o-mini"}, 400),
    ("GET", "/v1/models/no-such-model", None, 404),
    ("GET", "/v1/embeddings", None, 405),
    ("POST", "/v1/chat/completions", {**CHAT, "messages": [{"role": "user", "content": "[[fail:3040]]"}]}, 429),
])
def test_errors(http, method, path, body, status):
    assert http.request(method, path, json=body).status_code == status


def test_an_error_mid_stream(http):
    body = {**CHAT, "model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "stream": True,
            "messages": [{"role": "user", "content": "[[fail-mid:3040]] [[words:5]]"}]}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert b'"error"' in response.read()


def test_a_vector_store_without_a_name(owner):
    made = owner.vector_stores.create()
    assert (made.name, owner.vector_stores.retrieve(made.id).name) == ("", "")
    assert [s.name for s in owner.vector_stores.list() if s.id == made.id] == [""]
