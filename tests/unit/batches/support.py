"""Helpers of the batch tests: a model that answers from its inputs (so that lines run side by side
get their own answers, in any order), Workers AI's async batch API included; uploading a JSONL
file; delivering the runs queue's messages until it is empty; reading output files."""
import asyncio
import json
from typing import List, Optional

from api import app, jobs
from api.catalog import BY_ID
from api.errors import workers_ai_error
from api.ports import QueueMessage
from fakes import MemoryBinary
from unit.support import AUTH, call, post, request, run, usage


class EchoAI:
    """Answers chat with "Echo: <last user text>" (native shape), embeddings with a vector per text
    whose first value is the text's length, and moderation as safe. "[[fail]]" in a text fails the
    call with Workers AI's 3040. Queued batches (queueRequest) answer "running" to their first poll
    and their results (nested as the docs show them) to the next."""

    def __init__(self):
        self.calls: List[tuple] = []
        self.batches = {}

    async def run(self, model: str, inputs: dict, options: Optional[dict] = None):
        self.calls.append((model, inputs, options))
        if (options or {}).get("queueRequest"):
            request_id = f"q{len(self.batches)}"
            self.batches[request_id] = [model, inputs["requests"], 0]
            return {"status": "queued", "request_id": request_id, "model": model}
        if "request_id" in inputs:
            queued = self.batches[inputs["request_id"]]
            queued[2] += 1
            if queued[2] == 1:
                return {"status": "running", "request_id": inputs["request_id"]}
            return {"responses": [self._entry(queued[0], i, one) for i, one in enumerate(queued[1])],
                    "usage": usage(10, 3)}
        return self.answer(model, inputs)

    def _entry(self, model, index, inputs):
        try:
            result = self.answer(model, inputs)
        except Exception:  # noqa: BLE001 - a failed request of the batch
            return {"id": index, "result": {"errors": [{"code": 3040, "message": "Capacity"}]}, "success": False}
        result.pop("usage", None)  # per-request usage is not in the documented results
        return {"id": index, "result": {"result": result} if BY_ID[model].task == "chat" else result,
                "success": True, "external_reference": None}

    def answer(self, model: str, inputs: dict):
        texts = inputs.get("text") or ([inputs["prompt"]] if "prompt" in inputs else
                                       [m["content"] for m in inputs["messages"] if m["role"] == "user"][-1:])
        if any("[[fail]]" in text for text in texts):
            raise workers_ai_error(3040, "Capacity temporarily exceeded, please try again.", model)
        if "text" in inputs:
            dims = BY_ID[model].dims
            return {"shape": [len(texts), dims], "data": [[float(len(t))] + [0.5] * (dims - 1) for t in texts],
                    "pooling": "mean"}
        if "guard" in model:
            return {"response": {"safe": True, "categories": []}, "usage": usage(20, 2)}
        return {"response": f"Echo: {texts[0]}", "tool_calls": [], "usage": usage(10, 3)}

    async def stream(self, model, inputs, options=None):
        raise AssertionError("batch lines never stream")


class Paced:
    """EchoAI answering line tN's chat after `delay(N)` seconds (N × 10 ms unless given), so lines end
    one after another; `after(text)` runs as a call ends (a cancel arriving meanwhile)."""

    def __init__(self, echo: EchoAI, after=None, delay=lambda n: 0.01 * n):
        self.echo, self.calls, self.after, self.delay = echo, echo.calls, after, delay

    async def run(self, model, inputs, options=None):
        text = inputs["messages"][-1]["content"]
        await asyncio.sleep(self.delay(int(text[1:])))
        if self.after:
            await self.after(text)
        return await self.echo.run(model, inputs, options)


def jsonl(lines) -> bytes:
    return b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)


def chat(custom_id: str, text: str, model: str = "gpt-4o-mini", **body) -> dict:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": model, "messages": [{"role": "user", "content": text}], **body}}


def upload(deps, data: bytes, purpose: str = "batch", headers=AUTH) -> str:
    form = {"file": [MemoryBinary(data, "application/jsonl", "requests.jsonl")], "purpose": [purpose]}
    response = run(app.handle(request("POST", "/v1/files", headers={**headers, "content-type": "multipart/form-data; b=x"},
                                      form=form), deps))
    assert response.status == 200, response.body
    return response.body["id"]


def create(deps, lines, endpoint="/v1/chat/completions", headers=AUTH, **fields):
    file_id = upload(deps, jsonl(lines), headers=headers)
    return post(deps, "/v1/batches", {"input_file_id": file_id, "endpoint": endpoint,
                                      "completion_window": "24h", **fields}, headers=headers)


def deliver(deps) -> str:
    """Delivers the runs queue's first message (again later, if it is retried); the decision."""
    body = deps.runs.sent.pop(0)
    decision = run(jobs.consume([QueueMessage("m", body)], deps))["m"]
    if decision == "retry":
        deps.runs.sent.append(body)
    return decision


def work(deps, limit: int = 100) -> List[str]:
    """Delivers the runs queue's messages one at a time until the queue is empty; the decisions."""
    decisions = []
    while deps.runs.sent:
        assert len(decisions) < limit, "the batch never finished"
        decisions.append(deliver(deps))
    return decisions


def batch(deps, batch_id: str, headers=AUTH) -> dict:
    response = call(deps, "GET", f"/v1/batches/{batch_id}", headers=headers)
    assert response.status == 200, response.body
    return response.body


def content(deps, file_id: str) -> list:
    response = call(deps, "GET", f"/v1/files/{file_id}/content")
    assert response.status == 200, response.body
    text = run(response.body.read()).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]
