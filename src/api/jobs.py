"""The Queue consumer: each message's `kind` names its handler, which decides ack or retry for
its messages. Delivery is at least once, so every handler is idempotent."""
from typing import Awaitable, Callable, Dict, List

from api import usage
from api.ports import Deps, QueueMessage
from api.vector_stores import ingest, stores

Handler = Callable[[List[QueueMessage], Deps], Awaitable[Dict[str, str]]]
HANDLERS: Dict[str, Handler] = {
    usage.KIND: usage.consume,  # all of a delivery's events in one D1 transaction
    stores.INGEST: ingest.consume,  # one file per message
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
