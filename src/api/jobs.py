"""The Queue consumer's decisions: which messages to ack and which to retry.

Delivery is at least once, so every effect is idempotent (keyed by the producer's id)."""
from dataclasses import dataclass
from typing import Dict, List

from api import usage
from api.vector_stores import ingest, stores
from api.ports import Deps


@dataclass
class QueueMessage:
    id: str
    body: dict
    attempts: int = 1


async def consume(messages: List[QueueMessage], deps: Deps) -> Dict[str, str]:
    """Returns message id → "ack" | "retry". Usage events are written in one D1 transaction;
    ingestion jobs (api.vector_stores.ingest) run one after another."""
    decisions: Dict[str, str] = {}
    statements = []
    for message in messages:
        body = message.body if isinstance(message.body, dict) else {}
        if body.get("kind") == usage.KIND:
            try:
                statements.append(usage.statement(body))
                decisions[message.id] = "ack"
            except (KeyError, TypeError, ValueError):
                deps.log(f"queue: malformed usage event in message {message.id}")
                decisions[message.id] = "retry"  # ends in the dead-letter queue, not silently lost
        elif body.get("kind") == stores.INGEST:  # one file per message, each decided on its own
            decisions[message.id] = await ingest.run(body, message.attempts, deps)
        else:
            deps.log(f"queue: unknown job kind {body.get('kind')!r} in message {message.id}")
            decisions[message.id] = "retry"
    if statements:
        try:
            await deps.db.batch(statements)
        except Exception as exc:  # noqa: BLE001 - D1 hiccup: retry the batch, writes are idempotent
            deps.log(f"queue: usage batch failed, retrying: {type(exc).__name__}: {exc}")
            return {**decisions, **{m.id: "retry" for m in messages
                                    if isinstance(m.body, dict) and m.body.get("kind") == usage.KIND}}
    return decisions
