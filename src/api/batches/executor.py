"""A batch on the run engine (its run has the batch's id): validating its input, then its chunks in
order, then its output files. A delivery works one slice (SLICE_SECONDS) and queues the run again
for the next, in a new round of attempts with a message of its own, so no delivery runs for long;
a cancel ends a slice early. A consumer whose lease was lost writes nothing."""
import hashlib
from typing import List

from api import auth, stored
from api.batches import jsonl, store
from api.batches.execute import Batch, run_chunk
from api.batches.finalize import finalize
from api.ports import Deps, Row, Statement
from api.runs import lease as runs
from api.vector_stores.stores import FILE_KEY

KIND = "batch"
SLICE_SECONDS = 60  # one delivery's work at most, then a fresh run goes on
COMPLETION_WINDOW = 24 * 3600
CHUNK_LINES = 100  # lines run side by side (and sent as one queued Workers AI batch)
CHUNK_BYTES = 4 * 1024 * 1024  # input bytes per chunk at most (one line may be larger)
MAX_REQUESTS = 50_000  # lines per batch, as OpenAI allows
MAX_ERRORS = 50  # validation errors reported


async def batch_of(deps: Deps, row: Row, key_id: str) -> Batch:
    body = store.batch_object(row)
    return Batch(row["id"], row["owner"], await auth.by_id(deps, key_id), body["endpoint"],
                 FILE_KEY + body["input_file_id"])


class BatchExecutor:
    async def run(self, claim: runs.Claim, lease: runs.Lease, deps: Deps) -> None:
        deadline, steps = deps.now() + SLICE_SECONDS, 0
        while True:
            row = await store.row(deps, claim.id)
            if row is None or row["status"] in store.FINISHED:
                await deps.db.execute(*lease.release())  # done already
                return
            if not await lease.beat(force=True) or (steps and deps.now() >= deadline):
                if lease.alive or lease.cancelled:
                    await hand_over(deps, lease, row["id"])
                return
            steps += 1
            try:
                if await self._step(deps, lease, row, await batch_of(deps, row, claim.key_id)):
                    return
            except jsonl.MissingInput:  # the input file was deleted meanwhile: nothing more can run
                await self.fail(claim.id, claim.owner, deps, "The input file was deleted while the batch ran.")
                await deps.db.execute(*lease.release())
                return

    async def _step(self, deps: Deps, lease: runs.Lease, row: Row, batch: Batch) -> bool:
        """One step of the batch; True once it is finished."""
        status, expires_at = row["status"], store.batch_object(row)["expires_at"]
        if status in ("validating", "in_progress") and deps.now() >= expires_at:
            await deps.db.batch([lease.held(), store.stamped(row["id"], "finalizing", {"expired_at": expires_at})])
        elif status == "validating":
            await validate(deps, lease, batch)
        elif status == "in_progress" and row["cursor"] < len(store.Plan.of(row).offsets):
            await run_chunk(deps, lease, batch, store.Plan.of(row), row["cursor"])
        elif status == "in_progress":
            now = int(deps.now())
            await deps.db.batch([lease.held(), store.stamped(row["id"], "finalizing", {"finalizing_at": now})])
        else:  # finalizing, or cancelling
            await finalize(deps, lease, batch, row)
            return True
        return False

    async def fail(self, run_id: str, owner: str, deps: Deps, message: str) -> None:
        """The slice's consumer died repeatedly: the batch ends failed, its partial work dropped."""
        batch_id = run_id
        pointers = [r["output"] for r in await deps.db.query(
            "SELECT output FROM batch_lines WHERE batch_id = ? AND output LIKE 'r2:%'", (batch_id,))]
        await deps.db.batch([failed(batch_id, int(deps.now()), [{"code": "server_error", "message": message,
                                                                  "param": None, "line": None}]),
                             ("DELETE FROM batch_lines WHERE batch_id = ?", (batch_id,))])
        await stored.forget(deps, pointers)


async def hand_over(deps: Deps, lease: runs.Lease, batch_id: str) -> None:
    """The batch goes on in a new round of its run (a new message; a lease without this one's
    cancel flag, which the next round reads from the batch's status)."""
    await deps.db.batch([lease.held(), runs.requeued(batch_id, int(deps.now()))])
    await runs.enqueue(deps, batch_id, EXECUTORS)


async def validate(deps: Deps, lease: runs.Lease, batch: Batch) -> None:
    """Every line checked (JSON, the four fields, POST to the batch's endpoint, unique custom_ids)
    and the input cut into chunks; any problem fails the batch, naming the lines."""
    errors: List[dict] = []
    seen, models, count = set(), set(), 0
    offsets, numbers, chunk_lines, chunk_bytes, end = [], [], 0, 0, 0
    try:
        async for line in jsonl.lines(deps, batch.input_key):
            try:
                request = jsonl.check(line, batch.endpoint)
                digest = hashlib.blake2b(request.custom_id.encode(), digest_size=16).digest()  # ids may be long
                if digest in seen:
                    raise jsonl.LineError("duplicate_custom_id", f"Line {line.number}: the custom_id "
                                          f"'{request.custom_id[:100]}' is used by an earlier line.", line, "custom_id")
                seen.add(digest)
                if len(models) < 2:
                    models.add(request.body.get("model"))
            except jsonl.LineError as error:
                if len(errors) < MAX_ERRORS:
                    errors.append(error.wire())
            count += 1
            if count > MAX_REQUESTS:  # no need to read on: the batch fails
                break
            size = len(line.data or b"") + 1
            if not offsets or chunk_lines == CHUNK_LINES or chunk_bytes + size > CHUNK_BYTES:
                offsets.append(line.offset)
                numbers.append(line.number)
                chunk_lines, chunk_bytes = 0, 0
            chunk_lines, chunk_bytes, end = chunk_lines + 1, chunk_bytes + size, line.offset + size
            if not await lease.beat():
                return
    except jsonl.MissingInput:
        errors.append(_whole("input_file_missing", "The input file was deleted before the batch started."))
    if count == 0 and not errors:
        errors.append(_whole("empty_file", "The input file has no requests."))
    if count > MAX_REQUESTS:
        errors.append(_whole("too_many_tasks", f"The input file has more than {MAX_REQUESTS} requests, the most "
                                               "a batch takes."))
    if errors:
        await deps.db.batch([lease.held(), failed(batch.id, int(deps.now()), errors)])
        return
    model = {"model": next(iter(models))} if len(models) == 1 and isinstance(next(iter(models)), str) else {}
    plan = store.Plan(offsets, numbers, end)
    await deps.db.batch([lease.held(), store.stamped(batch.id, "in_progress", {"in_progress_at": int(deps.now())},
                                                     ["validating"], **model),
                         ("UPDATE batches SET plan = ?, total = ? WHERE id = ?", (plan.dumps(), count, batch.id))])


def failed(batch_id: str, now: int, errors: List[dict]) -> Statement:
    unfinished = ["validating", "in_progress", "finalizing", "cancelling"]
    return store.stamped(batch_id, "failed", {"failed_at": now}, unfinished, errors={"object": "list", "data": errors})


def _whole(code: str, message: str) -> dict:
    return {"code": code, "message": message, "param": None, "line": None}


EXECUTOR = BatchExecutor()
EXECUTORS: runs.Executors = {KIND: EXECUTOR}
