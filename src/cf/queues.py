"""api.ports.JobQueue over the raw Queue producer binding, and the consumer side of `queue()`
(whose batch the SDK hands us wrapped, bodies already converted)."""
from typing import List

from api import jobs
from api.jobs import QueueMessage
from api.ports import Deps
from cf.convert import to_js_object


class Queue:
    def __init__(self, binding):
        self._queue = binding

    async def send_batch(self, bodies: List[dict]) -> None:
        await self._queue.sendBatch(to_js_object([{"body": b, "contentType": "json"} for b in bodies]))


async def consume(batch, deps: Deps) -> None:
    await consume_messages(list(batch.messages), deps)


async def consume_messages(delivered: list, deps: Deps) -> None:
    messages = {m.id: m for m in delivered}
    decisions = await jobs.consume(
        [QueueMessage(id=m.id, body=dict(m.body), attempts=m.attempts) for m in messages.values()], deps)
    for message_id, decision in decisions.items():
        message = messages[message_id]
        message.ack() if decision == "ack" else message.retry()
