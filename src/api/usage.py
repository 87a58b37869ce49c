"""Usage accounting: each request's tokens go on the Queue after the response; the consumer
(api.jobs) stores them in D1 once per request id, so redelivery never double-counts.

Events are sent in batches: a send costs the isolate about as much as a whole small request, so
the first event waiting schedules one send (ctx.waitUntil keeps it alive) for all events that
arrive in the next FLUSH_SECONDS."""
import asyncio
from typing import List

from api.ports import Deps
from api.generation.outputs import Usage
from api.web import ApiRequest

KIND = "usage"
MAX_BATCH = 100  # messages per Queue sendBatch
_pending: List[dict] = []  # per isolate: events waiting for the scheduled send


def event(req: ApiRequest, deps: Deps, model: str, usage: Usage) -> dict:
    return {"kind": KIND, "id": req.id, "key_id": req.key.id if req.key else "", "model": model,
            "endpoint": req.route, "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens, "created_at": int(deps.now()),
            "duration_ms": int((deps.now() - req.received_at) * 1000)}


def record(req: ApiRequest, deps: Deps, model: str, usage: Usage) -> None:
    _pending.append(event(req, deps, model, usage))
    if len(_pending) == 1:
        deps.defer(_flush(deps))


async def _flush(deps: Deps) -> None:
    await asyncio.sleep(deps.config.usage_flush_seconds)
    events = _pending[:]
    _pending.clear()
    for start in range(0, len(events), MAX_BATCH):
        try:
            await deps.jobs.send_batch(events[start:start + MAX_BATCH])
        except Exception as exc:  # noqa: BLE001 - accounting must never break serving; say what was lost
            ids = [e["id"] for e in events[start:start + MAX_BATCH]]
            deps.log(f"usage: queue send failed ({type(exc).__name__}: {exc}); lost events {ids}")


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
