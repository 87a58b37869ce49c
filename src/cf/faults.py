"""Fault injection for tests of the local environment only: entry.py applies it only when
LOCAL_DEV_KEY is set, which it never is in production (wrangler.toml sets it in [env.local]).

The `x-local-fault` header of a request names faults, comma-separated:
  upstream-timeout=MS  every Workers AI deadline of the request is MS milliseconds
  d1                   every D1 statement fails (a real D1 error: the statement names no table)
  r2                   every R2 operation fails (a real R2 error: an over-long key)
  consumer-throw       the jobs it queues make the consumer throw on their first delivery
  consumer-r2          the jobs it queues see R2 fail on their first delivery
  consumer-r2-always   the jobs it queues see R2 fail on every delivery
Jobs carry their faults to the consumer in a `fault` field, which the job handlers ignore."""
import dataclasses
from typing import List, Set

from api.catalog import Timeouts
from api.ports import Deps
from cf import queues
from cf.ai import WorkersAI
from cf.d1 import D1
from cf.r2 import R2

HEADER = "x-local-fault"
_BAD_KEY = "local-fault/" + "x" * 2048  # R2 keys are at most 1,024 bytes


class FailingD1(D1):
    def _prepare(self, sql, params):
        return self._db.prepare('SELECT * FROM "local fault: D1 is unavailable"')


class FailingR2(R2):
    async def put(self, key, data, content_type, metadata=None):
        await super().put(_BAD_KEY, b"", content_type)

    async def get(self, key):
        return await super().get(_BAD_KEY)

    async def delete(self, key):
        await super().delete(_BAD_KEY)


class TaggingQueue(queues.Queue):
    """Sends jobs with the faults their consumer must meet."""

    def __init__(self, binding, tags: List[str]):
        super().__init__(binding)
        self._tags = tags

    async def send_batch(self, bodies):
        await super().send_batch([{**body, "fault": self._tags} for body in bodies])


def parse(header: str) -> Set[str]:
    return {part.strip() for part in (header or "").split(",") if part.strip()}


def for_request(deps: Deps, header: str, env) -> Deps:
    """The request's deps with its faults in place of the real adapters."""
    faults = parse(header)
    if not faults:
        return deps
    changes = {}
    for fault in faults:
        if fault.startswith("upstream-timeout="):
            seconds = int(fault.split("=", 1)[1]) / 1000
            changes["ai"] = WorkersAI(env.AI, lambda model: Timeouts(seconds, seconds))
    if "d1" in faults:
        changes["db"] = FailingD1(env.DB)
    if "r2" in faults:
        changes["blobs"] = FailingR2(env.BUCKET)
    tags = sorted(f for f in faults if f.startswith("consumer-"))
    if tags:
        changes["jobs"] = TaggingQueue(env.JOBS, tags)
    return dataclasses.replace(deps, **changes)


async def consume(batch, deps: Deps, env) -> None:
    """The consumer, meeting the faults its jobs carry."""
    messages = list(batch.messages)
    tags = [set(dict(m.body).get("fault") or ()) for m in messages]
    if any("consumer-throw" in t and m.attempts == 1 for t, m in zip(tags, messages)):
        raise RuntimeError("local fault: the queue consumer throws")
    failing = [m for t, m in zip(tags, messages)
               if "consumer-r2-always" in t or ("consumer-r2" in t and m.attempts == 1)]
    rest = [m for m in messages if m not in failing]
    if rest:
        await queues.consume_messages(rest, deps)
    if failing:
        await queues.consume_messages(failing, dataclasses.replace(deps, blobs=FailingR2(env.BUCKET)))
