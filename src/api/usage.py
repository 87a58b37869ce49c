"""Usage accounting: each request's (or background run's) tokens go on the Queue after the
response; the consumer (api.jobs) stores them in D1 once per id, so redelivery never double-counts.

Events are sent in batches: a send costs the isolate about as much as a whole small request, so
the first event waiting schedules one send (ctx.waitUntil keeps it alive) for all events that
arrive in the next `usage_flush_seconds`."""
import asyncio
from dataclasses import dataclass
from typing import List, Optional

from api import limits
from api.ports import Deps, QueueMessage
from api.web import ApiRequest

KIND = "usage"
MAX_BATCH = 100  # messages per Queue sendBatch


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: Optional[int] = None  # prompt tokens served from Workers AI's prefix cache
    reasoning_tokens: Optional[int] = None  # completion tokens spent thinking, when the model says

    @classmethod
    def parse(cls, raw) -> Optional["Usage"]:
        if not isinstance(raw, dict):
            return None
        cached = (raw.get("prompt_tokens_details") or {}).get("cached_tokens")
        reasoning = (raw.get("completion_tokens_details") or {}).get("reasoning_tokens")
        return cls(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0),
                   None if cached is None else int(cached), None if reasoning is None else int(reasoning))

    def __add__(self, other: "Usage") -> "Usage":
        def total(a, b):
            return None if a is None and b is None else (a or 0) + (b or 0)
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens,
                     total(self.cached_tokens, other.cached_tokens),
                     total(self.reasoning_tokens, other.reasoning_tokens))

    def wire(self) -> dict:
        """As chat completions report it (CompletionUsage)."""
        wired = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                 "total_tokens": self.prompt_tokens + self.completion_tokens}
        if self.cached_tokens is not None:
            wired["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens}
        return wired


@dataclass(frozen=True)
class Meter:
    """What a usage event is about: one event per id (a request id, or the id of a background
    run, which may be executed more than once), the key that pays, the endpoint, the start."""
    id: str
    key_id: str
    endpoint: str
    started: float

    @classmethod
    def of(cls, req: ApiRequest) -> "Meter":
        return cls(req.id, req.key.id if req.key else "", req.route, req.received_at)


def event(meter: Meter, deps: Deps, model: str, used: Usage) -> dict:
    return {"kind": KIND, "id": meter.id, "key_id": meter.key_id, "model": model, "endpoint": meter.endpoint,
            "prompt_tokens": used.prompt_tokens, "completion_tokens": used.completion_tokens,
            "created_at": int(deps.now()), "duration_ms": int((deps.now() - meter.started) * 1000)}


def record(meter: Meter, deps: Deps, model: str, used: Usage) -> None:
    limits.count_tokens(deps, meter.key_id, used.prompt_tokens + used.completion_tokens)
    pending = deps.isolate.usage
    pending.append(event(meter, deps, model, used))
    if len(pending) == 1:
        deps.defer(_flush(deps))


async def _flush(deps: Deps) -> None:
    await asyncio.sleep(deps.config.usage_flush_seconds)
    pending = deps.isolate.usage
    events = pending[:]
    pending.clear()
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


async def consume(messages: List[QueueMessage], deps: Deps) -> dict:
    """The job handler for usage events: all of a delivery's events in one D1 transaction."""
    decisions, statements = {}, []
    for message in messages:
        try:
            statements.append(statement(message.body))
            decisions[message.id] = "ack"
        except (KeyError, TypeError, ValueError):
            deps.log(f"queue: malformed usage event in message {message.id}")
            decisions[message.id] = "retry"  # ends in the dead-letter queue, not silently lost
    if statements:
        try:
            await deps.db.batch(statements)
        except Exception as exc:  # noqa: BLE001 - D1 hiccup: retry the batch, writes are idempotent
            deps.log(f"queue: usage batch failed, retrying: {type(exc).__name__}: {exc}")
            return dict.fromkeys(decisions, "retry")
    return decisions
