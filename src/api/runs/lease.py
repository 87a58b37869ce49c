"""Runs on the queue: a run row per object, one message per run, claimed by a conditional D1
update that takes a lease (the attempt number is the lease's token), renewed while the work goes
on — which is also when a cancel request is noticed — and released when the run is done. A
redelivered message for a run that is done or leased does nothing."""
import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable, Dict, List, Optional, Protocol

from api.ports import Deps, QueueMessage, Statement

KIND = "run"  # the queue message kind (api.jobs)
LEASE_SECONDS = 60  # a consumer that has not renewed for this long is taken for dead
BEAT_SECONDS = 2.0  # how often a running consumer renews (and looks for a cancel request)
MAX_ATTEMPTS = 3  # a run whose consumer dies this many times ends failed
ROUND = 1000  # attempt numbers of one round of attempts (a run requeued starts the next round)


@dataclass
class Claim:
    id: str
    kind: str
    owner: str
    key_id: str  # the key that pays for the run's usage
    attempt: int


class Executor(Protocol):
    async def run(self, claim: Claim, lease: "Lease", deps: Deps) -> None:
        """Does the work; calls lease.beat() between steps and stops when it returns False."""

    async def fail(self, run_id: str, owner: str, deps: Deps, message: str) -> None:
        """Ends the object failed (the last attempt died), if it is not finished already."""


Executors = Dict[str, Executor]


def created(run_id: str, kind: str, owner: str, key_id: str, now: int) -> Statement:
    """The run row, to write in the same transaction as the object it runs."""
    return ("INSERT INTO runs (id, kind, owner, key_id, state, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 'queued', ?, ?)", (run_id, kind, owner, key_id, now, now))


def cancel(run_id: str) -> Statement:
    return ("UPDATE runs SET cancel_requested = 1, state = CASE state WHEN 'queued' THEN 'done' ELSE state END "
            "WHERE id = ?", (run_id,))


async def held(deps: Deps, run_id: str) -> bool:
    """Whether a consumer holds the run now (or held it and died: its lease not yet taken over)."""
    rows = await deps.db.query("SELECT state FROM runs WHERE id = ?", (run_id,))
    return bool(rows) and rows[0]["state"] == "running"


def still(run_id: str, running: bool) -> Statement:
    """A statement that fails its transaction unless the run is (still) held by a consumer, or
    (still) not: a decision taken on `held` holds, or is taken again."""
    test = "=" if running else "!="
    return (f"SELECT CASE WHEN COALESCE((SELECT state FROM runs WHERE id = ?), 'done') {test} 'running' "
            "THEN 1 ELSE json('run changed hands') END", (run_id,))


def requeued(run_id: str, now: int) -> Statement:
    """A run that waited for its client (an assistant run for tool outputs) queued again, with a
    new round of attempts: to write in the same transaction as the object's change. The attempt
    number only ever grows — it is the lease's token, so no consumer of an earlier round can
    take a later one's for its own."""
    return (f"UPDATE runs SET state = 'queued', attempt = (attempt / {ROUND} + 1) * {ROUND}, lease_until = NULL, "
            "cancel_requested = 0, updated_at = ? WHERE id = ?", (now, run_id))


def tries(attempt: int) -> int:
    """How many times the run has been attempted in its current round."""
    return attempt % ROUND


async def enqueue(deps: Deps, run_id: str, executors: Executors) -> None:
    """One message on the runs queue; or, where there is no queue (`wrangler dev --remote`), the
    run itself after the response (no retry should that isolate die)."""
    if deps.config.runs_inline:
        deps.defer(run_now(deps, run_id, executors))
    else:
        await deps.runs.send_batch([{"kind": KIND, "id": run_id}])


async def claim(deps: Deps, run_id: str) -> Optional[Claim]:
    now = int(deps.now())
    rows = await deps.db.query(
        "UPDATE runs SET state = 'running', attempt = attempt + 1, lease_until = ?, updated_at = ? "
        "WHERE id = ? AND (state = 'queued' OR (state = 'running' AND lease_until < ?)) "
        "RETURNING kind, owner, key_id, attempt", (now + LEASE_SECONDS, now, run_id, now))
    return Claim(run_id, **rows[0]) if rows else None


class Lease:
    def __init__(self, deps: Deps, claim: Claim):
        self.deps, self.claim = deps, claim
        self.next_beat = deps.now() + BEAT_SECONDS
        self.alive, self.cancelled = True, False

    async def beat(self, force: bool = False) -> bool:
        """Renews the lease when due: False once the run was cancelled or its lease lost to
        another consumer (which then owns the run)."""
        now = self.deps.now()
        if not self.alive or (now < self.next_beat and not force):
            return self.alive
        self.next_beat = now + BEAT_SECONDS
        rows = await self.deps.db.query(
            "UPDATE runs SET lease_until = ?, updated_at = ? WHERE id = ? AND attempt = ? AND state = 'running' "
            "RETURNING cancel_requested", (int(now) + LEASE_SECONDS, int(now), self.claim.id, self.claim.attempt))
        self.cancelled = bool(rows and rows[0]["cancel_requested"])
        self.alive = bool(rows) and not self.cancelled
        return self.alive

    def held(self) -> Statement:
        """A statement that fails — and so rolls back the transaction it opens — unless this
        consumer still holds the run: a consumer that lost its lease (taken for dead while it
        was only slow) never writes over the one that took the run over."""
        return ("SELECT CASE WHEN EXISTS (SELECT 1 FROM runs WHERE id = ? AND attempt = ? AND state = 'running') "
                "THEN 1 ELSE json('lease lost') END", (self.claim.id, self.claim.attempt))

    def release(self) -> Statement:
        """The run is done: to write with the object's final state."""
        return ("UPDATE runs SET state = 'done', lease_until = NULL, updated_at = ? WHERE id = ? AND attempt = ?",
                (int(self.deps.now()), self.claim.id, self.claim.attempt))


async def run_now(deps: Deps, run_id: str, executors: Executors) -> str:
    """Claims and executes one run: "ack" when done with it, "retry" to have it delivered again."""
    claimed = await claim(deps, run_id)
    if claimed is None:
        return "ack"  # done, cancelled, or leased by a live consumer: a redelivery
    executor = executors.get(claimed.kind)
    if executor is None:
        deps.log(f"runs: no executor for kind {claimed.kind!r} of {run_id}")
        return "retry"
    lease = Lease(deps, claimed)
    if tries(claimed.attempt) > MAX_ATTEMPTS:
        await executor.fail(run_id, claimed.owner, deps, "The run failed repeatedly and was given up.")
        await deps.db.execute(*lease.release())
        return "ack"
    try:
        await executor.run(claimed, lease, deps)
    except Exception as exc:  # noqa: BLE001 - a crash mid-run: the lease expires, the run is retried
        deps.log(f"runs: {run_id} attempt {claimed.attempt} failed: {type(exc).__name__}: {exc}")
        await _expire(deps, claimed)
        return "retry"
    return "ack"


async def _expire(deps: Deps, claimed: Claim) -> None:
    """Gives the lease up at once, so the redelivery can claim the run without waiting for it."""
    try:
        await deps.db.execute("UPDATE runs SET lease_until = 0 WHERE id = ? AND attempt = ? AND state = 'running'",
                              (claimed.id, claimed.attempt))
    except Exception:  # noqa: BLE001 - D1 is down too: the lease expires by itself
        pass


def consumer(executors: Executors) -> Callable[[List[QueueMessage], Deps], Awaitable[Dict[str, str]]]:
    """The job handler for run messages (max_batch_size is small: runs go side by side)."""
    async def consume(messages: List[QueueMessage], deps: Deps) -> Dict[str, str]:
        ids = [m.body.get("id") if isinstance(m.body.get("id"), str) else "" for m in messages]
        decisions = await asyncio.gather(*(run_now(deps, run_id, executors) if run_id else _malformed(deps, m)
                                           for run_id, m in zip(ids, messages)))
        return {m.id: decision for m, decision in zip(messages, decisions)}
    return consume


async def _malformed(deps: Deps, message: QueueMessage) -> str:
    deps.log(f"runs: malformed message {message.id}")
    return "ack"
