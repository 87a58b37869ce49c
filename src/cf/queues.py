"""api.ports.JobQueue over a Queue producer binding, and the consumer side of `queue()`."""
from api import jobs
from api.jobs import QueueMessage
from api.ports import Deps


class Queue:
    def __init__(self, binding):
        self._queue = binding

    async def send(self, body: dict) -> None:
        await self._queue.send(body, {"contentType": "json"})


async def consume(batch, deps: Deps) -> None:
    messages = {m.id: m for m in batch.messages}
    decisions = await jobs.consume(
        [QueueMessage(id=m.id, body=dict(m.body), attempts=m.attempts) for m in messages.values()], deps)
    for message_id, decision in decisions.items():
        message = messages[message_id]
        message.ack() if decision == "ack" else message.retry()
