"""Usage accounting: each request's tokens go on the Queue after the response; the consumer
(api.jobs) stores them in D1 once per request id, so redelivery never double-counts."""
from api.ports import Deps
from api.textgen import Usage
from api.web import ApiRequest

KIND = "usage"


def event(req: ApiRequest, deps: Deps, model: str, usage: Usage) -> dict:
    return {"kind": KIND, "id": req.id, "key_id": req.key.id if req.key else "", "model": model,
            "endpoint": req.route, "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens, "created_at": int(deps.now()),
            "duration_ms": int((deps.now() - req.received_at) * 1000)}


def record_later(req: ApiRequest, deps: Deps, model: str, usage: Usage) -> None:
    """For whole responses: queue the event after the response is sent (ctx.waitUntil)."""
    deps.defer(deps.jobs.send(event(req, deps, model, usage)))


async def record(req: ApiRequest, deps: Deps, model: str, usage: Usage) -> None:
    """For streams, whose producer already runs after the response started."""
    await deps.jobs.send(event(req, deps, model, usage))


INSERT = ("INSERT OR IGNORE INTO usage_events (id, key_id, model, endpoint, prompt_tokens, "
          "completion_tokens, created_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def statement(body: dict):
    """The INSERT for one event; ValueError if the event is malformed (it would fail the batch)."""
    texts = [body["id"], body["key_id"], body["model"], body["endpoint"]]
    if not all(isinstance(value, str) and value for value in texts):
        raise ValueError("usage event with a missing or non-string id, key_id, model or endpoint")
    numbers = [int(body[name]) for name in
               ("prompt_tokens", "completion_tokens", "created_at", "duration_ms")]
    return INSERT, (*texts, *numbers)
