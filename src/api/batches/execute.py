"""One chunk of a batch: its lines not done yet, all at once, each an in-process request to the
live endpoint (deps.dispatch, which is api.app.dispatch: same validation, same errors) with the batch owner's key and a
request id of its own (usage is recorded per line, once however often the line runs); their model
calls grouped (api.batches.queued); each outcome a line row, written in small batches while the
lease is renewed and a cancel noticed between lines."""
import asyncio
import dataclasses
import json
from typing import List, Optional, Tuple

from api import stored
from api.batches import jsonl, queued, store
from api.errors import Unauthorized, UnsupportedParameter
from api.ports import Deps, Statement
from api.runs.lease import Lease
from api.sse import INTERNAL
from api.web import ApiKey, ApiRequest, ApiResponse

FLUSH_ROWS = 50  # line rows per write at most …
FLUSH_SECONDS = 2.0  # … or as old as this
ROWS_PER_INSERT = 16  # 6 bound parameters a row: D1 takes 100
STATEMENT_BYTES = 90_000  # D1 takes 100 KB per statement
HEADERS = {"content-type": "application/json"}
LineRow = Tuple[str, int, int, str, int, int]  # batch_id, line, ok, output, input_tokens, output_tokens


@dataclasses.dataclass
class Batch:
    """What running a batch's lines needs to know of it."""
    id: str
    owner: str
    key: Optional[ApiKey]  # the key that created it, with its limits (None once it is revoked)
    endpoint: str
    input_key: str

    def request_id(self, number: int) -> str:
        return f"req_{self.id.split('_', 1)[-1]}_{number}"

    def output_id(self, number: int) -> str:
        return f"batch_req_{self.id.split('_', 1)[-1]}_{number}"


async def run_chunk(deps: Deps, lease: Lease, batch: Batch, plan: store.Plan, index: int) -> bool:
    """Runs chunk `index`; True when it is done and the batch moved on to the next chunk, False
    when the lease was lost or the batch cancelled (the lines done so far are kept)."""
    start, end, first = plan.bounds(index)
    lines = [line async for line in jsonl.lines(deps, batch.input_key, start, end, first)]
    done = {row["line"] for row in await deps.db.query(
        "SELECT line FROM batch_lines WHERE batch_id = ? AND line >= ? AND line < ?",
        (batch.id, first, lines[-1].number + 1 if lines else first))}
    todo = [line for line in lines if line.number not in done]
    grouped = queued.Grouped(deps.ai, len(todo), deps.log)
    line_deps = dataclasses.replace(deps, ai=grouped)

    async def one(line: jsonl.Line) -> LineRow:
        try:
            return await run_line(line_deps, batch, line)
        finally:
            grouped.finished()

    tasks = {asyncio.ensure_future(one(line)) for line in todo}
    rows: List[LineRow] = []
    flushed_at = deps.now()
    try:
        while tasks:
            finished, tasks = await asyncio.wait(tasks, timeout=FLUSH_SECONDS, return_when=asyncio.FIRST_COMPLETED)
            rows += [task.result() for task in finished]
            if len(rows) >= FLUSH_ROWS or (rows and deps.now() - flushed_at >= FLUSH_SECONDS):
                await deps.db.batch([lease.held(), *inserts(rows), store.counted(batch.id)])
                rows, flushed_at = [], deps.now()
            if not await lease.beat():
                break
    finally:
        for task in tasks:
            task.cancel()
        grouped.close()
        await asyncio.gather(*tasks, return_exceptions=True)
    rows += [task.result() for task in tasks if not task.cancelled() and task.exception() is None]  # ended meanwhile
    if not lease.alive:
        if lease.cancelled and rows:  # what was done before the cancel stays
            await deps.db.batch([lease.held(), *inserts(rows), store.counted(batch.id)])
        return False
    await deps.db.batch([lease.held(), *inserts(rows), store.counted(batch.id),
                         ("UPDATE batches SET cursor = ? WHERE id = ?", (index + 1, batch.id))])
    return True


async def run_line(deps: Deps, batch: Batch, line: jsonl.Line) -> LineRow:
    """The line's request answered as the live endpoint answers it, as its output-file line."""
    value = json.loads(line.data)  # checked when the batch was validated
    request_id = batch.request_id(line.number)
    response = _refused(value["body"], batch.endpoint, batch.key)
    if response is None:
        req = ApiRequest("POST", batch.endpoint, HEADERS, json.dumps(value["body"]).encode(),
                         id=request_id, received_at=deps.now(), key=batch.key)
        response = await deps.dispatch(req, deps)
        if not (isinstance(response, ApiResponse) and isinstance(response.body, dict)):
            deps.log(f"batches: {request_id} answered with {type(response).__name__}, not a JSON body")
            response = ApiResponse(INTERNAL.body(), 500)
    output = {"id": batch.output_id(line.number), "custom_id": value["custom_id"],
              "response": {"status_code": response.status, "request_id": request_id, "body": response.body},
              "error": None}
    used = response.body.get("usage") if isinstance(response.body.get("usage"), dict) else {}
    tokens = [used.get(name) or used.get(alias) or 0
              for name, alias in (("prompt_tokens", "input_tokens"), ("completion_tokens", "output_tokens"))]
    return (batch.id, line.number, int(200 <= response.status < 300),
            await stored.column(deps, f"batches/{batch.id}/{line.number}", output), *map(int, tokens))


def _refused(body: dict, endpoint: str, key: Optional[ApiKey]) -> Optional[ApiResponse]:
    """What a batch line may not ask for: a stream (no one reads it), or a background response
    (the batch is the background); and no line runs once the batch's key is revoked."""
    if key is None:
        error = Unauthorized("The API key that created this batch has been revoked.")
    elif body.get("stream"):
        error = UnsupportedParameter("stream", "is not supported in batch requests")
    elif endpoint == "/v1/responses" and body.get("background"):
        error = UnsupportedParameter("background", "is not supported in batch requests")
    else:
        return None
    return ApiResponse(error.body(), error.status)


def inserts(rows: List[LineRow]) -> List[Statement]:
    """The line rows as INSERTs within D1's limits. OR IGNORE: a line already written stays."""
    statements, part, size = [], [], 0
    for row in rows:
        if part and (len(part) == ROWS_PER_INSERT or size + len(row[3]) > STATEMENT_BYTES):
            statements.append(_insert(part))
            part, size = [], 0
        part.append(row)
        size += len(row[3])
    return statements + [_insert(part)] if part else statements


def _insert(rows: List[LineRow]) -> Statement:
    return ("INSERT OR IGNORE INTO batch_lines (batch_id, line, ok, output, input_tokens, output_tokens) VALUES "
            + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(rows)), [value for row in rows for value in row])

