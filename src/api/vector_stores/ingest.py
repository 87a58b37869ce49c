"""The ingestion job: one attached file → text → chunks → embeddings → chunk rows in D1 and
vectors in the index, then the file's status. Idempotent: chunk ids are `<store>:<file>:<n>`
and every write replaces, so redelivery and retries leave no duplicates.

A file counts as `completed` once its vectors are upserted; Vectorize makes them queryable
asynchronously, usually within seconds, so a search right after completion may miss them."""
import json
from typing import Dict, List

from api.vector_stores import chunking, stores
from api.vector_stores.chunking import BadFile
from api.errors import ApiError
from api.ports import Deps, QueueMessage

MODEL = "@cf/baai/bge-base-en-v1.5"  # 768 dimensions: the index must be created with them (README)
EMBED_BATCH = 100  # texts per Workers AI call (bge's maxItems)
UPSERT_BATCH = 1000  # vectors per Vectorize upsert from a Worker
ROWS_PER_INSERT = 16  # chunk rows per INSERT: 6 parameters each, D1 allows 100 …
STATEMENT_TEXT_BYTES = 60_000  # … and 100 KB per statement
# wrangler.toml's max_retries + 1: the last delivery marks the file failed instead of retrying
# (a retry after it would go to the dead-letter queue and leave the file in_progress).
MAX_ATTEMPTS = 6


async def consume(messages: List[QueueMessage], deps: Deps) -> Dict[str, str]:
    """The job handler: the files of a delivery one after another, each decided on its own."""
    return {m.id: await run(m.body, m.attempts, deps) for m in messages}


async def run(body: dict, attempts: int, deps: Deps) -> str:
    """Ingests the file of one job message: "ack" when it is done with (completed, failed, or
    nothing to do), "retry" after a transient failure."""
    store_id, file_id = body.get("store"), body.get("file")
    if not isinstance(store_id, str) or not isinstance(file_id, str):
        deps.log(f"ingest: malformed job {body!r}")
        return "ack"
    try:
        await _ingest(deps, store_id, file_id)
        return "ack"
    except BadFile as bad:
        await _fail(deps, store_id, file_id, bad.code, bad.message)
        return "ack"
    except Exception as exc:  # noqa: BLE001 - Workers AI 429/5xx, D1 or Vectorize hiccups: retry
        if isinstance(exc, ApiError) and exc.status < 500 and exc.status != 429:
            await _fail(deps, store_id, file_id, "invalid_file", "The file's text could not be embedded.")
            return "ack"
        deps.log(f"ingest: {store_id}/{file_id} attempt {attempts} failed: {type(exc).__name__}: {exc}")
        if attempts < MAX_ATTEMPTS:
            return "retry"
        try:
            await _fail(deps, store_id, file_id, "server_error", "Ingestion failed; please try again.")
        except Exception:  # noqa: BLE001 - D1 is down too: the dead-letter queue keeps the job
            return "retry"
        return "ack"


async def _fail(deps: Deps, store_id: str, file_id: str, code: str, message: str) -> None:
    await stores.set_failed(deps, store_id, [file_id], code, message)


async def _ingest(deps: Deps, store_id: str, file_id: str) -> None:
    rows = await deps.db.query(
        "SELECT v.status, v.chunking_strategy, f.filename FROM vector_store_files v "
        "JOIN files f ON f.id = v.file_id WHERE v.vector_store_id = ? AND v.file_id = ?", (store_id, file_id))
    if rows and rows[0]["status"] == "cancelled":  # anything an earlier attempt wrote goes
        await stores.remove_chunks(deps, store_id, file_id)
    if not rows or rows[0]["status"] != "in_progress":
        return  # detached, cancelled or already done (a redelivery)
    row = rows[0]
    blob = await deps.blobs.get(stores.FILE_KEY + file_id)
    if blob is None:
        raise BadFile("invalid_file", "The file's content is missing.")
    if blob.size > chunking.MAX_TEXT_BYTES:
        raise BadFile("invalid_file", f"The file is over {chunking.MAX_TEXT_BYTES} bytes, the limit for search.")
    text = chunking.extract(row["filename"], await blob.read())
    static = json.loads(row["chunking_strategy"])["static"]
    pieces = chunking.chunk(text, static["max_chunk_size_tokens"], static["chunk_overlap_tokens"])
    vectors = []
    for start in range(0, len(pieces), EMBED_BATCH):
        batch = pieces[start:start + EMBED_BATCH]
        embedded = await embed(deps, [t for t, _ in batch])
        vectors += [{"id": stores.chunk_id(store_id, file_id, start + i), "values": values,
                     "metadata": _metadata(store_id, file_id, start + i)}
                    for i, values in enumerate(embedded)]
    # Rows before vectors: whatever vectors exist, their rows say which ids to delete later.
    await _write_rows(deps, store_id, file_id, pieces)
    for start in range(0, len(vectors), UPSERT_BATCH):
        await deps.vectors.upsert(vectors[start:start + UPSERT_BATCH])
    used = sum(len(t.encode()) for t, _ in pieces)
    await deps.db.execute("UPDATE vector_store_files SET status = 'completed', usage_bytes = ?, last_error = NULL "
                          "WHERE vector_store_id = ? AND file_id = ? AND status = 'in_progress'",
                          (used, store_id, file_id))
    still = await deps.db.query("SELECT status FROM vector_store_files WHERE vector_store_id = ? AND file_id = ?",
                                (store_id, file_id))
    if not still or still[0]["status"] == "cancelled":  # detached or cancelled meanwhile: undo
        await stores.remove_chunks(deps, store_id, file_id)


async def embed(deps: Deps, texts: List[str]) -> List[List[float]]:
    result = await deps.ai.run(MODEL, {"text": texts})
    vectors = result.get("data") if isinstance(result, dict) else None
    if not isinstance(vectors, list) or len(vectors) != len(texts):
        raise RuntimeError(f"{MODEL} returned no embeddings for {len(texts)} texts")
    return vectors


def _metadata(store_id: str, file_id: str, n: int) -> dict:
    """Where the chunk comes from: store_id and file_id are the index's metadata indexes (README),
    which search filters on. Attributes stay in D1 (see api.vector_stores.search), so updating them needs no
    re-embedding."""
    return {"store_id": store_id, "file_id": file_id, "n": n}


async def _write_rows(deps: Deps, store_id: str, file_id: str, pieces) -> None:
    # A re-run with fewer chunks (another chunking) drops the rest, vectors first.
    await stores.remove_chunks(deps, store_id, file_id, from_n=len(pieces))
    statements, part, size = [], [], 0
    for n, (text, count) in enumerate(pieces):
        part.append((stores.chunk_id(store_id, file_id, n), store_id, file_id, n, text, count))
        size += len(text.encode())
        if len(part) == ROWS_PER_INSERT or size > STATEMENT_TEXT_BYTES or n == len(pieces) - 1:
            statements.append(("INSERT OR REPLACE INTO chunks (id, vector_store_id, file_id, n, text, tokens) "
                               "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(part)),
                               [v for row in part for v in row]))
            part, size = [], 0
    await deps.db.batch(statements)
