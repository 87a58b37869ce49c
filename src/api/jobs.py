"""The Queue consumer and the scheduled sweep: each message's `kind` names its handler, which
decides ack or retry for its messages (delivery is at least once, so every handler is
idempotent); the sweep retries stuck runs, expires assistant runs that waited too long for tool
outputs, and clears what failures left behind."""
from typing import Awaitable, Callable, Dict, List

from api import uploads, usage
from api.ports import Deps, QueueMessage
from api.assistants import execute, service as assistants
from api.batches import executor as batches
from api.responses import background
from api.runs import lease as runs
from api.runs.sweep import sweep as sweep_runs
from api.vector_stores import ingest, stores

# run kind → what runs it
EXECUTORS: runs.Executors = {**background.EXECUTORS, **execute.EXECUTORS, **batches.EXECUTORS}
Handler = Callable[[List[QueueMessage], Deps], Awaitable[Dict[str, str]]]
HANDLERS: Dict[str, Handler] = {
    usage.KIND: usage.consume,  # all of a delivery's events in one D1 transaction
    stores.INGEST: ingest.consume,  # one file per message
    runs.KIND: runs.consumer(EXECUTORS),  # background responses, assistant runs and batches, side by side
}


async def consume(messages: List[QueueMessage], deps: Deps) -> Dict[str, str]:
    """message id → "ack" | "retry". A message of no known kind is retried, so that it ends in
    the dead-letter queue rather than being lost."""
    groups: Dict[str, List[QueueMessage]] = {}
    decisions: Dict[str, str] = {}
    for message in messages:
        kind = message.body.get("kind") if isinstance(message.body, dict) else None
        if kind in HANDLERS:
            groups.setdefault(kind, []).append(message)
        else:
            deps.log(f"queue: unknown job kind {kind!r} in message {message.id}")
            decisions[message.id] = "retry"
    for kind, group in groups.items():
        decisions.update(await HANDLERS[kind](group, deps))
    return decisions


async def sweep(deps: Deps) -> None:
    """The cron trigger's work: each part on its own, so one failing does not stop the others."""
    for part in (lambda: sweep_runs(deps, EXECUTORS), lambda: assistants.sweep(deps), lambda: uploads.sweep(deps)):
        try:
            await part()
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again
            deps.log(f"sweep: {type(exc).__name__}: {exc}")
