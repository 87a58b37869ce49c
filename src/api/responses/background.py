"""Background responses: stored `queued` with their run at once; generated on the runs queue by
the executor below, which renews its lease between events, stops when the response is
cancelled, and (with `stream`) writes the events to the run's log for clients to follow."""
from contextlib import aclosing
from typing import List

from api import stored, usage
from api.errors import ApiError
from api.ports import Deps, Statement
from api.responses import objects, request, service, store
from api.responses.service import Pending, Sequenced
from api.runs import lease as runs
from api.runs.log import EventLog, clear_after
from api.types.responses import ResponseCreateParams
from api.validate import parse

KIND = "response"
OPENING_EVENTS = 2  # response.created and response.queued, written when the response is created


async def create(deps: Deps, job: Pending, key_id: str) -> dict:
    """The queued response, its input items and its run in one transaction, then the message."""
    body, owner = {**job.body, "status": "queued"}, job.owner
    saved = job.params.dict(exclude={"input"}, exclude_none=True, by_alias=True)
    statements: List[Statement] = [await store.body_statement(deps, body, owner, saved)]
    statements += await store.item_rows(deps, body["id"], owner, job.items, "input", 0, body["created_at"])
    statements.append(runs.created(body["id"], KIND, owner, key_id, body["created_at"]))
    if job.params.stream:
        log = EventLog(deps, body["id"])
        number = Sequenced()
        for event in service.opening(body, number, queued=True):
            log.add(event["sequence_number"], event)
        statements += log.statements()
    await deps.db.batch(statements)
    try:
        await runs.enqueue(deps, body["id"], EXECUTORS)
    except Exception:
        await deps.db.execute("UPDATE responses SET status = 'failed' WHERE id = ?", (body["id"],))
        raise
    return body


def cancelled(response_id: str) -> List[Statement]:
    """A cancel: the response ends cancelled now; its run, if queued, never starts, and if running,
    stops at its consumer's next lease renewal."""
    return [("UPDATE responses SET status = 'cancelled' WHERE id = ? AND status IN ('queued', 'in_progress')",
             (response_id,)), runs.cancel(response_id)]


async def _job(deps: Deps, row) -> Pending:
    params = parse(ResponseCreateParams, await stored.load(deps, row["request"]))
    items = await store.items_of(deps, row["id"], "input")
    return Pending(params, request.prepare(params, deps), items, await stored.load(deps, row["body"]), row["owner"])


class ResponseExecutor:
    async def run(self, claim: runs.Claim, lease: runs.Lease, deps: Deps) -> None:
        row = await store.find(deps, claim.owner, claim.id)
        if row["status"] not in store.UNFINISHED:  # cancelled before it started
            await deps.db.execute(*lease.release())
            return
        try:
            job = await _job(deps, row)
        except ApiError as exc:  # the request no longer holds (a model alias removed, …)
            await self.fail(claim.id, claim.owner, deps, exc.message)
            await deps.db.execute(*lease.release())
            return
        meter = usage.Meter(claim.id, claim.key_id, "/v1/responses", row["created_at"])
        log = EventLog(deps, claim.id) if job.params.stream else None
        number = Sequenced(OPENING_EVENTS)
        first: List[Statement] = [("UPDATE responses SET status = 'in_progress' WHERE id = ? AND status = 'queued'",
                                   (claim.id,))]
        if log and claim.attempt > 1:
            first.append(clear_after(claim.id, OPENING_EVENTS - 1))
        await deps.db.batch(first)

        def on_final(terminal: dict) -> List[Statement]:
            if log:
                log.add(terminal["sequence_number"], terminal)
            return [lease.held(), *(log.statements() if log else []), lease.release()]

        events = service.stream_events(deps, job, number, lambda: service.started(deps, job, meter, True), on_final)
        async with aclosing(events):
            async for event in events:
                if event["type"] in service.TERMINAL.values():
                    return
                if log:
                    log.add(event["sequence_number"], event)
                    if log.due():
                        await log.flush()
                if not await lease.beat(force=event["type"] == "response.output_item.done"):
                    break
        if lease.cancelled:
            await self._cancelled(deps, job, log, lease)

    async def _cancelled(self, deps: Deps, job: Pending, log, lease: runs.Lease) -> None:
        """What was generated before the cancel stays, with the response cancelled."""
        await deps.db.batch([lease.held(), *(log.statements() if log else []), lease.release(),
                             ("UPDATE responses SET status = 'cancelled' WHERE id = ?", (job.body["id"],))])

    async def fail(self, run_id: str, owner: str, deps: Deps, message: str) -> None:
        rows = await deps.db.query("SELECT body FROM responses WHERE id = ? AND status IN ('queued', 'in_progress')",
                                   (run_id,))
        if not rows:
            return
        body = objects.finished(await stored.load(deps, rows[0]["body"]), "failed", [], usage.Usage(),
                                int(deps.now()), error={"code": "server_error", "message": message})
        await deps.db.execute(*await store.body_statement(deps, body, owner))


EXECUTOR = ResponseExecutor()
EXECUTORS = {KIND: EXECUTOR}
