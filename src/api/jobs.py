"""The Queue consumer and the scheduled sweep: each message's `kind` names its handler, which
decides ack or retry for its messages (delivery is at least once, so every handler is
idempotent); the sweep retries stuck runs, expires assistant runs that waited too long for tool
outputs, and clears what failures left behind."""
import importlib
from typing import Dict, List

from api import uploads, usage
from api.ports import Deps, QueueMessage
from api.runs import lease as runs
from api.runs.sweep import sweep as sweep_runs
from api.vector_stores import stores

# kind → its handler, "module.function", imported with the kind's first message: a delivery of
# usage events does not load the ingestion pipeline or the engines of background runs.
HANDLERS: Dict[str, str] = {
    usage.KIND: "api.usage.consume",  # all of a delivery's events in one D1 transaction
    stores.INGEST: "api.vector_stores.ingest.consume",  # one file per message
    runs.KIND: "api.jobs.consume_runs",  # background responses, assistant runs and batches, side by side
}
# what runs each kind of run: these modules' EXECUTORS (run kind → executor)
EXECUTORS = ("api.responses.background.EXECUTORS", "api.assistants.execute.EXECUTORS",
             "api.batches.executor.EXECUTORS")


def _load(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def executors() -> runs.Executors:
    return {kind: executor for path in EXECUTORS for kind, executor in _load(path).items()}


async def consume_runs(messages: List[QueueMessage], deps: Deps) -> Dict[str, str]:
    return await runs.consumer(executors())(messages, deps)


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
        decisions.update(await _load(HANDLERS[kind])(group, deps))
    return decisions


async def sweep(deps: Deps) -> None:
    """The cron trigger's work: each part on its own, so one failing does not stop the others."""
    for part in (lambda: sweep_runs(deps, executors()), lambda: _load("api.assistants.service.sweep")(deps),
                 lambda: uploads.sweep(deps)):
        try:
            await part()
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again
            deps.log(f"sweep: {type(exc).__name__}: {exc}")
