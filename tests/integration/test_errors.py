"""Error responses: the OpenAI error object, statuses the SDK maps to its exception classes, routing
(404 / 405 + Allow, paths without /v1), CORS and the request id on every response."""
import json

import httpx
import openai
import pytest

NATIVE = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
CHAT = "/v1/chat/completions"


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def error_of(response: httpx.Response, status: int, *, code, param=None, type=None) -> dict:
    """Checks an OpenAI error response: the status, a JSON body {"error": {message, type, param,
    code}} with all four keys (null when absent) and a message. Returns the error object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert (error["code"], error["param"]) == (code, param)
    assert error["type"] == (type or ("server_error" if status >= 500 else "invalid_request_error"))
    return error


# --- authentication ------------------------------------------------------------------------------

def test_missing_key_is_401(server):
    response = httpx.post(server.url + CHAT, json={"model": NATIVE, "messages": user("hi")})
    error_of(response, 401, code="missing_api_key")


def test_non_bearer_authorization_is_401(server):
    response = httpx.get(server.url + "/v1/models", headers={"authorization": "Basic c2stbG9jYWw6"})
    error_of(response, 401, code="missing_api_key")


def test_wrong_key_is_401_invalid_api_key(server):
    response = httpx.get(server.url + "/v1/models", headers={"authorization": "Bearer sk-wrong"})
    error = error_of(response, 401, code="invalid_api_key")
    assert "sk-wrong" not in error["message"]


def test_wrong_key_through_the_sdk(server):
    wrong = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-not-ours", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        wrong.chat.completions.create(model=NATIVE, messages=user("hi"))
    assert refused.value.status_code == 401
    assert refused.value.code == "invalid_api_key"


# --- routing -------------------------------------------------------------------------------------

def test_unknown_route_is_404(http):
    error_of(http.get("/v1/nothing/here"), 404, code="unknown_url")


def test_wrong_method_is_405_with_allow(http):
    response = http.put(CHAT)
    error_of(response, 405, code="method_not_allowed")
    assert response.headers["allow"] == "GET, POST"


def test_paths_without_v1_prefix_work(http):
    response = http.post("/chat/completions", json={"model": NATIVE, "messages": user("no prefix")})
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Echo: no prefix"
    assert http.get("/models").json()["object"] == "list"


# --- request bodies ------------------------------------------------------------------------------

def test_invalid_json_is_400(http):
    response = http.post(CHAT, content=b'{"model": "gpt-4o-mini", "messages": [',
                         headers={"content-type": "application/json"})
    error_of(response, 400, code=None)


def test_non_object_json_is_400(http):
    error_of(http.post(CHAT, json=["model", "gpt-4o-mini"]), 400, code=None)


def test_json_with_charset_content_type_is_accepted(http):
    response = http.post(CHAT, content=json.dumps({"model": NATIVE, "messages": user("charset")}).encode(),
                         headers={"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 200


def test_missing_messages_names_the_param(http):
    response = http.post(CHAT, json={"model": NATIVE})
    error_of(response, 400, code="missing_required_parameter", param="messages")


def test_out_of_range_temperature_names_the_param(http, client):
    response = http.post(CHAT, json={"model": NATIVE, "messages": user("hi"), "temperature": 3})
    error_of(response, 400, code="invalid_value", param="temperature")
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=NATIVE, messages=user("hi"), temperature=3)
    assert refused.value.param == "temperature"


def test_nested_validation_error_names_the_json_path(http):
    response = http.post(CHAT, json={"model": NATIVE, "messages": [
        {"role": "user", "content": "ok"}, {"role": "wizard", "content": "hi"}]})
    error_of(response, 400, code="invalid_value", param="messages[1].role")


def test_unknown_fields_are_ignored(http):
    response = http.post(CHAT, json={"model": NATIVE, "messages": user("extra"), "brand_new_field": 1})
    assert response.status_code == 200


def test_chunked_body_over_16_mib_is_413(http):
    def chunks():  # no Content-Length: the worker reads the body, then measures it
        yield b'{"model": "gpt-4o-mini", "messages": [], "pad": "'
        for _ in range(17):
            yield b"a" * (1024 * 1024)
        yield b'"}'

    response = http.post(CHAT, content=chunks(), headers={"content-type": "application/json"})
    error_of(response, 413, code="request_too_large")


def test_oversized_upload_gets_its_413(http):
    # What SDKs do: send the whole body with its Content-Length. The 413 must reach the client
    # rather than a connection reset (repeated: a reset does not happen every time).
    body = b'{"model": "gpt-4o-mini", "messages": [], "pad": "' + b"a" * (16 * 1024 * 1024) + b'"}'
    for _ in range(5):
        response = http.post(CHAT, content=body, headers={"content-type": "application/json"})
        error_of(response, 413, code="request_too_large")


# --- Workers AI failures -------------------------------------------------------------------------

def test_capacity_error_is_429_rate_limit(client):
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model=NATIVE, messages=user("[[fail:3040]] hi"))
    assert limited.value.status_code == 429
    assert (limited.value.type, limited.value.code) == ("rate_limit_error", "rate_limit_exceeded")


def test_daily_allocation_error_is_429_insufficient_quota(http):
    response = http.post(CHAT, json={"model": NATIVE, "messages": user("[[fail:3036]] hi")})
    error_of(response, 429, code="insufficient_quota", type="insufficient_quota")  # as OpenAI types it
    assert response.headers["x-should-retry"] == "false"  # the quota is spent: retrying soon will not help


def test_invalid_input_upstream_is_400(http):
    response = http.post(CHAT, json={"model": NATIVE, "messages": user("[[fail:8001]] hi")})
    error_of(response, 400, code="invalid_value")


def test_other_upstream_error_is_502(client, http):
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=NATIVE, messages=user("[[fail:3000]] hi"))
    assert failed.value.status_code == 502
    error_of(http.post(CHAT, json={"model": NATIVE, "messages": user("[[fail:3000]] hi")}), 502,
             code="upstream_error")


def test_upstream_error_before_the_stream_starts_is_a_status(client):
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model=NATIVE, messages=user("[[fail:3040]] hi"), stream=True)


def test_embedding_upstream_failure_is_502(http):
    response = http.post("/v1/embeddings", json={"model": "text-embedding-3-small",
                                                 "input": ["fine", "[[fail:3000]]"]})
    error_of(response, 502, code="upstream_error")


def test_model_unknown_to_workers_ai_is_404(client, http):
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="@cf/nope/nope", messages=user("hi"))
    assert missing.value.code == "model_not_found"
    error = error_of(http.post(CHAT, json={"model": "@cf/nope/nope", "messages": user("hi")}), 404,
                     code="model_not_found", param="model")
    assert "@cf/nope/nope" in error["message"]


def test_non_workers_ai_model_is_404(http):
    error_of(http.post(CHAT, json={"model": "claude-9", "messages": user("hi")}), 404,
             code="model_not_found", param="model")


def test_retired_model_in_a_request_is_404(http):
    error = error_of(http.post(CHAT, json={"model": "@cf/meta/llama-3.1-8b-instruct", "messages": user("hi")}),
                     404, code="model_not_found", param="model")
    assert "retired" in error["message"]


# --- CORS and request ids ------------------------------------------------------------------------

def test_cors_preflight(server):
    response = httpx.options(server.url + CHAT, headers={
        "origin": "https://app.example", "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "authorization, content-type"
    assert response.headers["x-request-id"].startswith("req_")


def test_cors_headers_on_normal_and_error_responses(http):
    for response in (http.get("/v1/models", headers={"origin": "https://app.example"}),
                     http.get("/v1/nothing", headers={"origin": "https://app.example"})):
        assert response.headers["access-control-allow-origin"] == "*"
        assert "x-request-id" in response.headers["access-control-expose-headers"]


def test_every_response_has_a_distinct_request_id(server, http):
    responses = [
        http.get("/v1/models"),
        http.post(CHAT, json={"model": NATIVE, "messages": user("hi")}),
        http.post(CHAT, json={"model": NATIVE, "messages": user("[[fail:3040]]")}),
        http.get(CHAT),
        http.get("/v1/nothing"),
        httpx.get(server.url + "/v1/models"),
        httpx.options(server.url + CHAT),
    ]
    with http.stream("POST", CHAT, json={"model": NATIVE, "messages": user("hi"), "stream": True}) as streamed:
        streamed.read()
        responses.append(streamed)
    ids = [r.headers.get("x-request-id") for r in responses]
    assert all(i and i.startswith("req_") for i in ids), ids
    assert len(set(ids)) == len(ids)
