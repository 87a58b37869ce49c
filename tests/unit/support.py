"""Helpers shared by the unit tests: requests through api.app, stream collection, and Workers AI
results in the real output shapes (see shared notes workers-ai.md §2)."""
import asyncio
import json
from typing import Dict, List, Optional

from api import app, catalog
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


def choices_result(content, finish_reason="stop", prompt=10, completion=3, model="@cf/zai-org/glm-4.7-flash",
                   cached=0, logprobs=None, **message):
    """An OpenAI-shaped chat.completion as OpenAI-shaped (and `choices`) models return it; `message`
    adds or replaces fields such as tool_calls, reasoning_content or reasoning."""
    return {"id": "chatcmpl-upstream", "object": "chat.completion", "created": 1767225000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                                 "reasoning_content": None, "tool_calls": [], **message},
                         "logprobs": logprobs, "finish_reason": finish_reason}],
            "usage": {**usage(prompt, completion), "prompt_tokens_details": {"cached_tokens": cached}}}


def native_tools(calls: list, response="", prompt=10, completion=8) -> dict:
    """A native result that calls tools (llama-3.x flat calls, or llama-4 calls with ids)."""
    return {"response": response, "tool_calls": calls, "usage": usage(prompt, completion)}


def flat_call(name: str, arguments) -> dict:
    """A tool call as llama-3.3 / 3.1-fast / 3.2-vision return it: arguments are an object."""
    return {"name": name, "arguments": arguments}


def llama4_call(call_id: str, name: str, arguments) -> dict:
    """A tool call as llama-4 returns it: a 9-character id, arguments still an object."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def oai_call(call_id: str, name: str, arguments: str) -> dict:
    """A tool call as OpenAI-shaped models return it: arguments are JSON text."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def sse(payload) -> str:
    return "data: " + (payload if isinstance(payload, str) else json.dumps(payload)) + "\n\n"


def native_stream(pieces: List[str], prompt: int = 10, completion: Optional[int] = None) -> List[str]:
    """Native SSE: padded `response` pieces, then the usage event, then [DONE]."""
    events = [sse({"response": piece, "p": "abcdefgh"[: 1 + i % 8]}) for i, piece in enumerate(pieces)]
    if completion is not None:
        events.append(sse({"response": "", "usage": usage(prompt, completion)}))
    return events + [sse(DONE)]


def oai_chunks(deltas: list, finish_reason="stop", prompt=10, completion=None,
               model="@cf/zai-org/glm-4.7-flash", logprobs: Optional[list] = None) -> List[str]:
    """OpenAI-shaped SSE from raw deltas: role chunk, one chunk per delta (incremental usage,
    padding, and logprobs[i] if given), the finish chunk, then the binding's trailing native event
    with cumulative usage, then [DONE]."""
    head = {"id": "chatcmpl-upstream", "object": "chat.completion.chunk", "created": 1767225000, "model": model}

    def chunk(delta, reason=None, choice_logprobs=None, **extra):
        return sse({**head, "choices": [{"index": 0, "delta": delta, "logprobs": choice_logprobs,
                                         "finish_reason": reason}], **extra})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk(delta, None, (logprobs or [None] * len(deltas))[i], p="abc"[: 1 + i % 3],
                     usage=usage(prompt, 1)) for i, delta in enumerate(deltas)]
    events.append(chunk({}, finish_reason))
    if completion is not None:
        events.append(sse({"response": "", "usage": usage(prompt, completion)}))
    return events + [sse(DONE)]


def oai_stream(pieces: List[str], finish_reason="stop", prompt=10, completion=None,
               model="@cf/zai-org/glm-4.7-flash") -> List[str]:
    """OpenAI-shaped SSE of content pieces (see oai_chunks)."""
    return oai_chunks([{"content": piece, "reasoning_content": None} for piece in pieces], finish_reason,
                      prompt, completion, model)


def oai_tool_deltas(index: int, call_id: str, name: str, fragments: List[str]) -> List[dict]:
    """How OpenAI-shaped models stream one tool call: id, type and name with empty arguments, the
    argument fragments, then the all-null sentinel some models send to close the call."""
    first = {"tool_calls": [{"index": index, "id": call_id, "type": "function",
                             "function": {"name": name, "arguments": ""}}], "content": None}
    rest = [{"tool_calls": [{"index": index, "function": {"arguments": fragment}}]} for fragment in fragments]
    sentinel = {"tool_calls": [{"index": index, "id": None, "type": None, "function": {"name": None}}]}
    return [first, *rest, sentinel]


def resplit(chunks: List[str], points) -> List[str]:
    """The same stream text cut at other places (upstream reads split events anywhere)."""
    whole, edges = "".join(chunks), sorted(set(points))
    return [whole[a:b] for a, b in zip([0, *edges], [*edges, len(whole)])]


# --- our stream, read back ------------------------------------------------------------------------

def by_choice(parsed: list) -> Dict[int, list]:
    """The choice entries of chat.completion.chunk / text_completion payloads, per choice index."""
    grouped: Dict[int, list] = {}
    for payload in parsed:
        if payload != DONE:
            for choice in payload["choices"]:
                grouped.setdefault(choice["index"], []).append(choice)
    return grouped


def content_of(choices: list) -> str:
    """The streamed content of one choice's entries."""
    return "".join(c["delta"].get("content") or "" for c in choices)


# --- chat completions -----------------------------------------------------------------------------

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
USER = {"role": "user", "content": "Say hello"}


def default_answer(model: str) -> dict:
    """"Hello!" in the output shape of the model the name resolves to."""
    spec = catalog.BY_ID.get(catalog.aliases({}).get(model, model))
    if spec and spec.shape != "native":
        return choices_result("Hello!", "stop", 12, 3, model=spec.id)
    return native("Hello!", 12, 3)


def create_chat(deps, *answers, **body):
    """POST /v1/chat/completions (model gpt-4o, one user message unless given) with the model's
    answers queued: results, lists of SSE chunks, or errors; "Hello!" when none are given."""
    body = {"model": "gpt-4o", "messages": [USER], **body}
    for answer in answers or [default_answer(body["model"])]:
        deps.ai.answer(answer)
    return post(deps, "/v1/chat/completions", body)


def stream_chat(deps, *answers, **body) -> list:
    """A streamed chat completion that must start (200): its parsed payloads."""
    response = create_chat(deps, *answers, stream=True, **body)
    assert response.status == 200, response.body
    return payloads(frames(response))


def chat_chunk(delta, finish_reason=None, model=LLAMA, index=0, logprobs=None, **extra) -> dict:
    """One of our chat.completion.chunk payloads (id and time as the deps fixture makes them)."""
    return {"id": "chatcmpl-0002", "object": "chat.completion.chunk", "created": NOW, "model": model, **extra,
            "choices": [{"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}]}


def model_inputs(deps) -> dict:
    """The inputs of the one model call."""
    [(model, inputs, options)] = deps.ai.calls
    return inputs


def tool(name: str, description: Optional[str] = None, **properties) -> dict:
    """A function tool as clients send it; properties are JSON-schema dicts."""
    function = {"name": name, "parameters": {"type": "object", "properties": properties,
                                             "required": list(properties)}}
    return {"type": "function", "function": {**function, **({"description": description} if description else {})}}


def image_part(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}
