"""Our responses validate against OpenAI's published OpenAPI schemas (raw JSON, not SDK objects)."""
import base64
import json
import struct

import pytest

from openai_spec import check

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello spec"}]}


def sse_payloads(http, path: str, body: dict) -> list:
    with http.stream("POST", path, json=body) as response:
        assert response.status_code == 200
        lines = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def test_models(http):
    check("ListModelsResponse", http.get("/v1/models").json())
    check("Model", http.get("/v1/models/gpt-4o-mini").json())


@pytest.mark.parametrize("model", ["gpt-4o-mini", "@cf/zai-org/glm-4.7-flash"])
def test_chat_completion(http, model):
    check("CreateChatCompletionResponse", http.post("/v1/chat/completions", json={**CHAT, "model": model}).json())


def test_chat_completion_chunks(http):
    chunks = sse_payloads(http, "/v1/chat/completions",
                          {**CHAT, "stream": True, "stream_options": {"include_usage": True}})
    for chunk in chunks:
        check("CreateChatCompletionStreamResponse", chunk)


def test_completion_and_chunks(http):
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["one", "two"]}
    check("CreateCompletionResponse", http.post("/v1/completions", json=body).json())
    for chunk in sse_payloads(http, "/v1/completions", {**body, "stream": True}):
        # Streamed legacy completions share the whole response's schema, which does not say that
        # the live API sends finish_reason null until a choice's last chunk.
        choices = [{**c, "finish_reason": c["finish_reason"] or "stop"} for c in chunk["choices"]]
        check("CreateCompletionResponse", {**chunk, "choices": choices})


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_embeddings(http, encoding_format):
    body = {"model": "text-embedding-3-small", "input": ["a b", "c"], "encoding_format": encoding_format}
    response = http.post("/v1/embeddings", json=body).json()
    if encoding_format == "base64":  # the schema only describes float lists: decode as the SDKs do
        for item in response["data"]:
            raw = base64.b64decode(item["embedding"])
            item["embedding"] = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    check("CreateEmbeddingResponse", response)


@pytest.mark.parametrize("method, path, body, status", [
    ("POST", "/v1/chat/completions", {"model": "gpt-4o-mini"}, 400),
    ("GET", "/v1/models/no-such-model", None, 404),
    ("GET", "/v1/embeddings", None, 405),
    ("POST", "/v1/chat/completions", {**CHAT, "messages": [{"role": "user", "content": "[[fail:3040]]"}]}, 429),
])
def test_errors(http, method, path, body, status):
    response = http.request(method, path, json=body)
    assert response.status_code == status
    check("ErrorResponse", response.json())
