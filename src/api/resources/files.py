"""/v1/files: uploads kept in R2 (bytes, under `files/<file id>`) with their metadata in D1
(`files` rows), each owned by the caller's `req.key.owner`. Other owners get 404s, as do
expired files.

Never half-visible: the object is written before the row and removed after it, so a row never
points at a missing object. A failure in between leaves at most an orphan object under `files/`
without a row: nobody can reach it, and a sweep may delete any such object whose id has no row."""
import re
from urllib.parse import quote

from api import pages, stores
from api.errors import InvalidRequest, NotFound, PayloadTooLarge
from api.ports import Deps, Row
from api.types.files import BATCH_EXPIRY_SECONDS, FileCreateParams, FileListParams
from api.validate import form_fields, parse
from api.web import MAX_UPLOAD, ApiRequest, ApiResponse

KEY_PREFIX = "files/"
COLUMNS = "id, bytes, created_at, expires_at, filename, purpose, status"
LIVE = "owner = ? AND (expires_at IS NULL OR expires_at > ?)"  # bound: owner, now
_UNSAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\]')


def file_object(row: Row) -> dict:
    """openai-python's FileObject."""
    return {"id": row["id"], "object": "file", "bytes": row["bytes"], "created_at": row["created_at"],
            "expires_at": row["expires_at"], "filename": row["filename"], "purpose": row["purpose"],
            "status": row["status"], "status_details": None}


async def create_file(req: ApiRequest, deps: Deps) -> ApiResponse:
    fields = form_fields(req)
    params = parse(FileCreateParams, {**fields, **_nested(fields, "expires_after")})
    upload = params.file
    if not hasattr(upload, "read"):
        raise InvalidRequest("Invalid value for 'file': it must be a file upload.", param="file",
                             code="invalid_value")
    # OpenAI takes files up to 512 MB, but a Worker's request body is capped by the platform
    # (100 MB on the Free and Pro plans), and we refuse multipart bodies over MAX_UPLOAD.
    if upload.size > MAX_UPLOAD:
        raise PayloadTooLarge(f"Request body too large: the limit is {MAX_UPLOAD} bytes.")
    file_id, created = deps.new_id("file-"), int(deps.now())
    seconds = params.expires_after.seconds if params.expires_after else (
        BATCH_EXPIRY_SECONDS if params.purpose == "batch" else None)
    row = {"id": file_id, "bytes": upload.size, "created_at": created,
           "expires_at": created + seconds if seconds else None,
           "filename": upload.filename or "file", "purpose": params.purpose, "status": "processed"}
    key = KEY_PREFIX + file_id
    # The upload goes to R2 as the runtime holds it (no copy into Python).
    await deps.blobs.put(key, upload, upload.content_type or "application/octet-stream",
                         {"owner": req.key.owner, "purpose": params.purpose})
    try:
        await deps.db.execute(
            f"INSERT INTO files (owner, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (req.key.owner, *row.values()))
    except Exception:
        await _discard(deps, key)
        raise
    return ApiResponse(file_object(row))


async def list_files(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse(FileListParams, dict(req.query))
    where, values = [LIVE], [req.key.owner, int(deps.now())]
    if params.purpose is not None:
        where.append("purpose = ?")
        values.append(params.purpose)
    cursor = await _cursor(req, deps, params.after) if params.after is not None else None
    clauses, cursor_values, order_by = pages.keyset(params.order, cursor)
    rows = await deps.db.query(
        f"SELECT {COLUMNS} FROM files WHERE {' AND '.join(where + clauses)} "
        f"ORDER BY {order_by} LIMIT ?", (*values, *cursor_values, params.limit + 1))
    return ApiResponse(pages.page([file_object(row) for row in rows], params.limit))


async def retrieve_file(req: ApiRequest, deps: Deps) -> ApiResponse:
    return ApiResponse(file_object(await _find(req, deps)))


async def retrieve_file_content(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await _find(req, deps)
    stored = await deps.blobs.get(KEY_PREFIX + row["id"])
    if stored is None:  # the row is written after the object and removed before it
        deps.log(f"{req.id} file {row['id']} has a row but no object")
        raise _not_found(row["id"])
    # Streamed as R2 returns it. Uploaded content is never rendered by browsers (attachment, nosniff).
    return ApiResponse(stored, 200, {"content-type": stored.content_type,
                                     "content-disposition": _attachment(row["filename"]),
                                     "x-content-type-options": "nosniff"})


async def delete_file(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await _find(req, deps)
    await _remove(req, deps, row["id"])
    return ApiResponse({"id": row["id"], "object": "file", "deleted": True})


async def _find(req: ApiRequest, deps: Deps) -> Row:
    """The caller's live file named by the path, or the 404 OpenAI gives for a missing one. An
    expired file is removed after the response."""
    file_id = req.params["file_id"]
    rows = await deps.db.query(f"SELECT {COLUMNS} FROM files WHERE id = ? AND owner = ?",
                               (file_id, req.key.owner))
    if not rows:
        raise _not_found(file_id)
    row = rows[0]
    if row["expires_at"] is not None and row["expires_at"] <= deps.now():
        deps.defer(_remove(req, deps, file_id))
        raise _not_found(file_id)
    return row


async def _cursor(req: ApiRequest, deps: Deps, file_id: str):
    """(created_at, id) of the `after` file. Expired files still count, so that a page boundary
    may expire; a deleted (or never seen) one cannot place the cursor."""
    rows = await deps.db.query("SELECT created_at, id FROM files WHERE id = ? AND owner = ?",
                               (file_id, req.key.owner))
    if not rows:
        raise InvalidRequest(f"Invalid value for 'after': no file {file_id} to list after (it may have "
                             "been deleted).", param="after", code="invalid_value")
    return rows[0]["created_at"], rows[0]["id"]


async def _remove(req: ApiRequest, deps: Deps, file_id: str) -> None:
    """Detached from vector stores (vectors, chunks, attachments) first, then the row, then the
    object: a failure in between leaves an orphan object, never a dangling row."""
    await stores.detach(deps, req.key.owner, file_id)
    await deps.db.execute("DELETE FROM files WHERE id = ? AND owner = ?", (file_id, req.key.owner))
    await _discard(deps, KEY_PREFIX + file_id)


async def _discard(deps: Deps, key: str) -> None:
    """Deletes an object that no row points at; failing that, it stays an unreachable orphan."""
    try:
        await deps.blobs.delete(key)
    except Exception:  # noqa: BLE001 - the caller's outcome stands; the sweep can take it later
        deps.log(f"orphan object left in the bucket: {key}")


def _nested(fields: dict, name: str) -> dict:
    """`name[sub]` multipart fields (how the SDKs send objects) as {name: {sub: value}}."""
    prefix = name + "["
    parts = {key[len(prefix):-1]: value for key, value in fields.items()
             if key.startswith(prefix) and key.endswith("]")}
    return {name: parts} if parts else {}


def _attachment(filename: str) -> str:
    """content-disposition for any filename: header values must be ASCII, so names that are not
    get an ASCII fallback and their UTF-8 form as filename* (RFC 6266)."""
    fallback = _UNSAFE_IN_QUOTES.sub("_", filename)
    disposition = f'attachment; filename="{fallback}"'
    if fallback != filename:
        disposition += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return disposition


def _not_found(file_id: str) -> NotFound:
    return NotFound(f"No such File object: {file_id}", param="id")
