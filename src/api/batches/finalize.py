"""Finishing a batch: the output and error files written from its line rows in input order (for a
batch cancelled or expired part-way, the lines never run too, as errors) into R2 a part at a time,
as Files of purpose batch_output; then, in one transaction, the files made visible, the batch's
final state and usage, and its line rows removed."""
import hashlib
from typing import AsyncIterator, List, Optional, Tuple

from api import stored
from api.batches import jsonl, store
from api.batches.execute import Batch
from api.ports import Deps, MultipartUpload, Row, Statement
from api.runs.lease import Lease
from api.vector_stores.stores import FILE_KEY

PART_BYTES = 5 * 1024 * 1024  # R2: every part of an upload but the last is one size, at least 5 MiB
PAGE_ROWS = 100  # line rows read at a time
CONTENT_TYPE = "application/jsonl"
NOT_RUN = {"cancelled": ("batch_cancelled", "This request was not executed because the batch was cancelled."),
           "expired": ("batch_expired", "This request could not be executed before the completion window expired.")}


def file_id(batch_id: str, kind: str) -> str:
    """An output file's id, derived from the batch's: a finalize that runs again writes the same files."""
    return "file-" + hashlib.sha256(f"{batch_id}:{kind}".encode()).hexdigest()[:24]


class JsonlFile:
    """A File written a line at a time: its row first (invisible while 'uploading', as every File
    is), then its object — in equal parts once it outgrows one — in bounded memory."""

    def __init__(self, deps: Deps, batch_id: str, kind: str, owner: str, expires_after: Optional[int]):
        self.deps, self.owner, self.expires_after = deps, owner, expires_after
        self.id, self.filename = file_id(batch_id, kind), f"{batch_id}_{kind}.jsonl"
        self.buffer, self.bytes = bytearray(), 0
        self.upload: Optional[MultipartUpload] = None
        self.row_written = False

    async def add(self, text: str) -> None:
        data = text.encode() + b"\n"
        self.buffer += data
        self.bytes += len(data)
        while len(self.buffer) > PART_BYTES:  # strictly more: the last part is never empty
            if self.upload is None:
                await self._row()
                self.upload = await self.deps.blobs.multipart(FILE_KEY + self.id, CONTENT_TYPE)
            with memoryview(self.buffer) as view:  # one copy of the part, not two
                part = bytes(view[:PART_BYTES])
            await self.upload.part(part)
            del self.buffer[:PART_BYTES], part

    async def close(self) -> List[Statement]:
        """Stores what is left; the statement that makes the file visible (none for an empty file)."""
        if not self.bytes:
            return []
        if self.upload is None:
            await self._row()
            await self.deps.blobs.put(FILE_KEY + self.id, bytes(self.buffer), CONTENT_TYPE)
        else:
            await self.upload.part(bytes(self.buffer))
            await self.upload.complete()
        return [("UPDATE files SET status = 'processed', bytes = ? WHERE id = ?", (self.bytes, self.id))]

    async def _row(self) -> None:
        now = int(self.deps.now())
        expires = now + self.expires_after if self.expires_after else None
        await self.deps.db.execute(
            "INSERT OR IGNORE INTO files (id, owner, bytes, created_at, expires_at, filename, purpose, status) "
            "VALUES (?, ?, 0, ?, ?, ?, 'batch_output', 'uploading')",
            (self.id, self.owner, now, expires, self.filename))


async def finalize(deps: Deps, lease: Lease, batch: Batch, row: Row) -> None:
    body, plan = store.batch_object(row), store.Plan.of(row)
    final = "cancelled" if row["status"] == "cancelling" else "expired" if body.get("expired_at") else "completed"
    expires = (body.get("output_expires_after") or {}).get("seconds")
    files = {kind: JsonlFile(deps, batch.id, kind, batch.owner, expires) for kind in ("output", "error")}
    pointers = []
    async for ok, text, pointer in _outputs(deps, batch, row, plan, final):
        await files["output" if ok else "error"].add(text)
        if pointer:
            pointers.append(pointer)
        await lease.beat()
    visible = {kind: await file.close() for kind, file in files.items()}
    [used] = await deps.db.query("SELECT COALESCE(SUM(input_tokens), 0) AS input, "
                                 "COALESCE(SUM(output_tokens), 0) AS output FROM batch_lines WHERE batch_id = ?",
                                 (batch.id,))
    fields = {f"{kind}_file_id": files[kind].id for kind in files if visible[kind]}
    usage = {"input_tokens": used["input"], "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": used["output"], "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": used["input"] + used["output"]}
    times = {} if final == "expired" else {f"{final}_at": int(deps.now())}  # expired_at: when it expired
    await deps.db.batch([lease.held(), *visible["output"], *visible["error"],
                         store.stamped(batch.id, final, times, usage=usage, **fields),
                         ("DELETE FROM batch_lines WHERE batch_id = ?", (batch.id,)), lease.release()])
    await stored.forget(deps, pointers)


async def _outputs(deps: Deps, batch: Batch, row: Row, plan: Optional[store.Plan],
                   final: str) -> AsyncIterator[Tuple[bool, str, Optional[str]]]:
    """(goes to the output file, its line, its R2 pointer) for every line, in input order."""
    rows = _rows(deps, batch.id)
    if plan is None or row["completed"] + row["failed"] >= row["total"]:
        async for found in rows:
            yield found[1:]
        return
    code, message = NOT_RUN[final]
    pending = await anext(rows, None)
    async for line in jsonl.lines(deps, batch.input_key, plan.offsets[0], plan.end, plan.numbers[0]):
        if pending and pending[0] == line.number:
            yield pending[1:]
            pending = await anext(rows, None)
        else:
            request = jsonl.check(line, batch.endpoint)
            yield False, stored.dumps({"id": batch.output_id(line.number), "custom_id": request.custom_id,
                                       "response": None, "error": {"code": code, "message": message}}), None


async def _rows(deps: Deps, batch_id: str) -> AsyncIterator[Tuple[int, bool, str, Optional[str]]]:
    after = 0
    while True:
        found = await deps.db.query("SELECT line, ok, output FROM batch_lines WHERE batch_id = ? AND line > ? "
                                    "ORDER BY line LIMIT ?", (batch_id, after, PAGE_ROWS))
        for line in found:
            pointer = line["output"] if line["output"].startswith(stored.POINTER) else None
            yield line["line"], bool(line["ok"]), await stored.text(deps, line["output"]), pointer
        if len(found) < PAGE_ROWS:
            return
        after = found[-1]["line"]
