"""Helpers shared by the unit tests: requests through api.app, stream collection, and Workers AI
results in the real output shapes (see shared notes workers-ai.md §2)."""
import asyncio
import json
from typing import List, Optional

from api import app
from api.web import ApiRequest, StreamResponse

AUTH = {"authorization": "Bearer sk-test"}  # the deps fixture's local dev key
NOW = 1_767_225_600  # the deps fixture's clock
DONE = "[DONE]"


# The same as tests/conftest.py's: imported from here because `conftest` is ambiguous when the unit
# and integration suites are collected together (each folder has its own conftest.py).
def run(coro):
    return asyncio.run(coro)


async def drain(deps):
    """Run what handlers deferred until after the response (ctx.waitUntil)."""
    while deps.deferred:
        await deps.deferred.pop(0)


def request(method: str, path: str, body=None, headers: Optional[dict] = None, **fields) -> ApiRequest:
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    return ApiRequest(method, path, headers={**AUTH, "content-type": "application/json", **(headers or {})},
                      body=raw, **fields)


def call(deps, method: str, path: str, body=None, **kwargs):
    return run(app.handle(request(method, path, body, **kwargs), deps))


def post(deps, path: str, body, **kwargs):
    return call(deps, "POST", path, body, **kwargs)


def error(message: str, param=None, code=None, type: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def frames(response: StreamResponse) -> List[str]:
    assert isinstance(response, StreamResponse), response

    async def collect():
        return [frame async for frame in response.events]
    return run(collect())


def payloads(raw_frames: List[str]) -> list:
    """Each frame must be one `data: <json>` event; [DONE] stays the string DONE."""
    parsed = []
    for frame in raw_frames:
        assert frame.startswith("data: ") and frame.endswith("\n\n") and frame.count("\n") == 2, frame
        data = frame[len("data: "):-2]
        parsed.append(DONE if data == DONE else json.loads(data))
    return parsed


# --- Workers AI outputs ---------------------------------------------------------------------------

def usage(prompt: int, completion: int) -> dict:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def native(response, prompt: int = 10, completion: int = 3) -> dict:
    """A native text-generation result: {response, tool_calls, usage}."""
    return {"response": response, "tool_calls": [], "usage": usage(prompt, completion)}


def choices_result(content, finish_reason="stop", prompt=10, completion=3, model="@cf/zai-org/glm-4.7-flash"):
    """An OpenAI-shaped chat.completion as OpenAI-shaped (and `choices`) models return it."""
    return {"id": "chatcmpl-upstream", "object": "chat.completion", "created": 1767225000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                                 "reasoning_content": None, "tool_calls": []},
                         "logprobs": None, "finish_reason": finish_reason}],
            "usage": {**usage(prompt, completion), "prompt_tokens_details": {"cached_tokens": 0}}}


def sse(payload) -> str:
    return "data: " + (payload if isinstance(payload, str) else json.dumps(payload)) + "\n\n"


def native_stream(pieces: List[str], prompt: int = 10, completion: Optional[int] = None) -> List[str]:
    """Native SSE: padded `response` pieces, then the usage event, then [DONE]."""
    events = [sse({"response": piece, "p": "abcdefgh"[: 1 + i % 8]}) for i, piece in enumerate(pieces)]
    if completion is not None:
        events.append(sse({"response": "", "usage": usage(prompt, completion)}))
    return events + [sse(DONE)]


def oai_stream(pieces: List[str], finish_reason="stop", prompt=10, completion=None,
               model="@cf/zai-org/glm-4.7-flash") -> List[str]:
    """OpenAI-shaped SSE: role chunk, content chunks with incremental usage and padding, the finish
    chunk, then the binding's trailing native event with cumulative usage, then [DONE]."""
    head = {"id": "chatcmpl-upstream", "object": "chat.completion.chunk", "created": 1767225000, "model": model}

    def chunk(delta, reason=None, **extra):
        return sse({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": reason}], **extra})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece, "reasoning_content": None}, p="abc"[: 1 + i % 3], usage=usage(prompt, 1))
               for i, piece in enumerate(pieces)]
    events.append(chunk({}, finish_reason))
    if completion is not None:
        events.append(sse({"response": "", "usage": usage(prompt, completion)}))
    return events + [sse(DONE)]
