"""Vector stores in D1, shared by the /v1/vector_stores resources, the ingestion job and file
deletion: lookups scoped to the caller's owner, the wire objects, attaching files (rows plus
ingestion jobs on the Queue) and detaching them (rows, chunks and vectors)."""
import json
from typing import Dict, List, Optional

from api.errors import NotFound
from api.ports import Deps, Row

INGEST = "ingest"  # the job kind (api.jobs → api.vector_stores.ingest)
STATUSES = ("in_progress", "completed", "failed", "cancelled")
STORE_COLUMNS = "id, name, metadata, created_at, expires_after, expires_at, last_active_at"
FILE_COLUMNS = ("vector_store_id, file_id, status, last_error, attributes, chunking_strategy, usage_bytes, "
                "created_at, batch_id")
MAX_SEND = 100  # messages per Queue sendBatch
DAY = 86400


def loads(value: Optional[str]):
    return json.loads(value) if value else None


def chunk_id(store_id: str, file_id: str, n: int) -> str:
    """The id of chunk n, its D1 row and its vector alike (≤ 64 bytes, Vectorize's id limit)."""
    return f"{store_id}:{file_id}:{n}"


async def find_store(deps: Deps, owner: str, store_id: str) -> Row:
    rows = await deps.db.query(f"SELECT {STORE_COLUMNS} FROM vector_stores WHERE id = ? AND owner = ?",
                               (store_id, owner))
    if not rows:
        raise NotFound(f"No such vector store: {store_id}", param="vector_store_id")
    return rows[0]


async def counts(deps: Deps, store_ids: List[str], batch_id: Optional[str] = None) -> Dict[str, dict]:
    """store id (or the batch's store) → (file_counts, usage_bytes, any in progress)."""
    found: Dict[str, dict] = {s: {"file_counts": dict.fromkeys((*STATUSES, "total"), 0), "usage_bytes": 0}
                              for s in store_ids}
    if not store_ids:
        return found
    rows = []
    for start in range(0, len(store_ids), 90):  # D1: ≤ 100 bound parameters per query
        part = store_ids[start:start + 90]
        where, values = f"vector_store_id IN ({', '.join('?' * len(part))})", list(part)
        if batch_id is not None:
            where, values = where + " AND batch_id = ?", values + [batch_id]
        rows += await deps.db.query(
            f"SELECT vector_store_id, status, COUNT(*) AS n, SUM(usage_bytes) AS used FROM vector_store_files "
            f"WHERE {where} GROUP BY vector_store_id, status", values)
    for row in rows:
        entry = found[row["vector_store_id"]]
        entry["file_counts"][row["status"]] = row["n"]
        entry["file_counts"]["total"] += row["n"]
        entry["usage_bytes"] += row["used"] or 0
    return found


def store_object(row: Row, tally: dict, now: float) -> dict:
    """openai-python's VectorStore: `name` is a string ("" when none was given) and
    `expires_after` only there when set, as OpenAI's schema has them."""
    expired = row["expires_at"] is not None and row["expires_at"] <= now
    status = "expired" if expired else ("in_progress" if tally["file_counts"]["in_progress"] else "completed")
    found = {"id": row["id"], "object": "vector_store", "created_at": row["created_at"], "name": row["name"] or "",
             "usage_bytes": tally["usage_bytes"], "file_counts": tally["file_counts"], "status": status,
             "expires_at": row["expires_at"], "last_active_at": row["last_active_at"],
             "metadata": loads(row["metadata"]) or {}}
    if row["expires_after"]:
        found["expires_after"] = loads(row["expires_after"])
    return found


def file_object(row: Row) -> dict:
    """openai-python's VectorStoreFile."""
    return {"id": row["file_id"], "object": "vector_store.file", "created_at": row["created_at"],
            "vector_store_id": row["vector_store_id"], "status": row["status"],
            "last_error": loads(row["last_error"]), "usage_bytes": row["usage_bytes"],
            "attributes": loads(row["attributes"]) or {}, "chunking_strategy": loads(row["chunking_strategy"])}


FILE_KEY = "files/"  # the R2 key prefix of uploaded files (api.resources.files)

# A file the owner can see: fully uploaded (status processed) and not expired. Bound: owner, now.
LIVE_FILE = "owner = ? AND status = 'processed' AND (expires_at IS NULL OR expires_at > ?)"


async def owned_files(deps: Deps, owner: str, file_ids: List[str]) -> None:
    """NotFound for the first id that is not one of the owner's live files."""
    for start in range(0, len(file_ids), 90):  # D1: ≤ 100 bound parameters per query
        part = list(dict.fromkeys(file_ids[start:start + 90]))
        rows = await deps.db.query(
            f"SELECT id FROM files WHERE {LIVE_FILE} AND id IN ({', '.join('?' * len(part))})", (owner, int(deps.now()), *part))
        present = {r["id"] for r in rows}
        for file_id in part:
            if file_id not in present:
                raise NotFound(f"No such File object: {file_id}", param="file_id")


async def attach(deps: Deps, owner: str, store_id: str, entries: List[dict],
                 batch_id: Optional[str] = None) -> None:
    """Rows in_progress for entries {file_id, attributes, chunking_strategy (stored form)}, then one
    ingestion job each. Re-attaching a file starts it over. The rows come first: a job always finds
    its row, and a failed send leaves rows the caller sees in_progress — so on a failed send they
    are marked failed instead."""
    created = int(deps.now())
    await deps.db.batch([(
        "INSERT OR REPLACE INTO vector_store_files (vector_store_id, file_id, owner, status, last_error, "
        "attributes, chunking_strategy, usage_bytes, created_at, batch_id) "
        "VALUES (?, ?, ?, 'in_progress', NULL, ?, ?, 0, ?, ?)",
        (store_id, e["file_id"], owner, json.dumps(e["attributes"] or {}), json.dumps(e["chunking_strategy"]),
         created, batch_id)) for e in entries])
    jobs = [{"kind": INGEST, "store": store_id, "file": e["file_id"], "owner": owner} for e in entries]
    try:
        for start in range(0, len(jobs), MAX_SEND):
            await deps.jobs.send_batch(jobs[start:start + MAX_SEND])
    except Exception:
        await set_failed(deps, store_id, [e["file_id"] for e in entries], "server_error",
                         "The file could not be queued for ingestion.")
        raise


async def create_store(deps: Deps, owner: str, name: Optional[str], metadata: Optional[dict],
                       expires_after: Optional[dict], file_ids: List[str], chunking_strategy: dict) -> str:
    """A new store of the owner's (files checked first), with its files queued for ingestion: the
    /v1/vector_stores create, and the stores assistants and threads make from files."""
    await owned_files(deps, owner, file_ids)
    store_id, created = deps.new_id("vs_"), int(deps.now())
    await deps.db.execute(
        "INSERT INTO vector_stores (id, owner, name, metadata, created_at, expires_after, expires_at, "
        "last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (store_id, owner, name, json.dumps(metadata or {}), created,
         json.dumps(expires_after) if expires_after else None,
         created + expires_after["days"] * DAY if expires_after else None, created))
    if file_ids:
        await attach(deps, owner, store_id, [{"file_id": f, "attributes": None, "chunking_strategy": chunking_strategy}
                                             for f in dict.fromkeys(file_ids)])
    return store_id


async def set_failed(deps: Deps, store_id: str, file_ids: List[str], code: str, message: str) -> None:
    error = json.dumps({"code": code, "message": message})
    await deps.db.batch([("UPDATE vector_store_files SET status = 'failed', last_error = ? "
                          "WHERE vector_store_id = ? AND file_id = ? AND status = 'in_progress'",
                          (error, store_id, file_id)) for file_id in file_ids])


async def detach(deps: Deps, owner: str, file_id: str, store_id: Optional[str] = None) -> None:
    """Removes a file from one store (or every store of the owner): vectors first, then its chunk
    rows and attachment rows. A failure part-way leaves the row, so deleting again finishes."""
    where, values = "file_id = ? AND owner = ?", [file_id, owner]
    if store_id is not None:
        where, values = where + " AND vector_store_id = ?", values + [store_id]
    stores = [r["vector_store_id"] for r in await deps.db.query(
        f"SELECT vector_store_id FROM vector_store_files WHERE {where}", values)]
    for store in stores:
        await remove_chunks(deps, store, file_id)
    await deps.db.execute(f"DELETE FROM vector_store_files WHERE {where}", values)


async def remove_chunks(deps: Deps, store_id: str, file_id: str, from_n: int = 0) -> None:
    ids = [r["id"] for r in await deps.db.query(
        "SELECT id FROM chunks WHERE vector_store_id = ? AND file_id = ? AND n >= ?", (store_id, file_id, from_n))]
    if ids:
        await deps.vectors.delete(ids)
    await deps.db.execute("DELETE FROM chunks WHERE vector_store_id = ? AND file_id = ? AND n >= ?",
                          (store_id, file_id, from_n))
