"""Uploaded files' lifecycle beyond the /v1/files requests: removing one (detached from vector
stores, then invisible, then the object, the row last — so no object is ever without a row), and
the sweep of files that expired unasked and of rows a failure left invisible."""
from api.ports import Deps
from api.vector_stores import stores

LEFT_BEHIND_SECONDS = 3600  # an upload or delete still unfinished after this failed part-way
SWEEP_BATCH = 100


async def remove(deps: Deps, owner: str, file_id: str) -> None:
    await stores.detach(deps, owner, file_id)
    await deps.db.execute("UPDATE files SET status = 'deleting' WHERE id = ? AND owner = ?", (file_id, owner))
    await erase(deps, file_id)


async def erase(deps: Deps, file_id: str) -> None:
    """The object, then its row, of a file that is already invisible. Should that fail, the
    invisible row (and maybe its object) remain, for the sweep: never an object without a row."""
    try:
        await deps.blobs.delete(stores.FILE_KEY + file_id)
        await deps.db.execute("DELETE FROM files WHERE id = ?", (file_id,))
    except Exception:  # noqa: BLE001 - the request's outcome stands; what is left is invisible
        deps.log(f"file {file_id}: not erased; its invisible row (and maybe its object) remain")


async def sweep(deps: Deps) -> int:
    """Removes expired files and erases rows left invisible; returns how many."""
    now = int(deps.now())
    expired = await deps.db.query("SELECT id, owner FROM files WHERE status = 'processed' AND expires_at <= ? "
                                  "LIMIT ?", (now, SWEEP_BATCH))
    for row in expired:
        await remove(deps, row["owner"], row["id"])
    stale = await deps.db.query("SELECT id FROM files WHERE status IN ('uploading', 'deleting') AND created_at < ? "
                                "LIMIT ?", (now - LEFT_BEHIND_SECONDS, SWEEP_BATCH))
    for row in stale:
        await erase(deps, row["id"])
    return len(expired) + len(stale)
