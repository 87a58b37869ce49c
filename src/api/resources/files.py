"""/v1/files: uploads kept in R2 (bytes, under `files/<file id>`) with their metadata in D1
(`files` rows), each owned by the caller's `req.key.owner`. Other owners get 404s, as do
expired files.

Never half-visible: the row is written first, invisible ('uploading') until the object is stored,
and on delete turns invisible ('deleting') before the object goes and the row after it. A failure
in between leaves at most an invisible row (and maybe its object): never a visible file without
its bytes, nor an object without a row."""
import re
from urllib.parse import quote

from api import pages, uploads
from api.vector_stores import stores
from api.errors import InvalidRequest, NotFound, PayloadTooLarge
from api.ports import Deps, Row
from api.types.files import BATCH_EXPIRY_SECONDS, FileCreateParams, FileListParams
from api.validate import form_fields, parse_text
from api.web import MAX_UPLOAD, ApiRequest, ApiResponse

KEY_PREFIX = stores.FILE_KEY
COLUMNS = "id, bytes, created_at, expires_at, filename, purpose, status"
_UNSAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\]')


def file_object(row: Row) -> dict:
    """openai-python's FileObject. `expires_at` only for files that expire: OpenAI's schema has
    no null for it (nor for the deprecated `status_details`, which we never have)."""
    found = {"id": row["id"], "object": "file", "bytes": row["bytes"], "created_at": row["created_at"],
             "filename": row["filename"], "purpose": row["purpose"], "status": row["status"]}
    if row["expires_at"] is not None:
        found["expires_at"] = row["expires_at"]
    return found


async def create_file(req: ApiRequest, deps: Deps) -> ApiResponse:
    fields = form_fields(req)
    params = parse_text(FileCreateParams, {**fields, **_nested(fields, "expires_after")})
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
           "filename": upload.filename or "file", "purpose": params.purpose, "status": "uploading"}
    key = KEY_PREFIX + file_id
    # Row first, invisible while "uploading"; then the object; then the row goes live. So every
    # object has a row, and a crash between the steps leaves only an invisible row, never a
    # visible row without its object.
    await deps.db.execute(f"INSERT INTO files (owner, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          (req.key.owner, *row.values()))
    try:
        # The upload goes to R2 as the runtime holds it (no copy into Python).
        await deps.blobs.put(key, upload, upload.content_type or "application/octet-stream",
                             {"owner": req.key.owner, "purpose": params.purpose})
        await deps.db.execute("UPDATE files SET status = 'processed' WHERE id = ?", (file_id,))
    except Exception:
        await uploads.erase(deps, file_id)
        raise
    row["status"] = "processed"
    return ApiResponse(file_object(row))


async def list_files(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_text(FileListParams, req.query)
    # Expired files still place a cursor, so that a page boundary may expire.
    filters = [("status = 'processed' AND (expires_at IS NULL OR expires_at > ?)", [int(deps.now())])]
    if params.purpose is not None:
        filters.append(("purpose = ?", [params.purpose]))
    listing = pages.Listing("files", COLUMNS, [("owner = ?", req.key.owner)], "file", filters)
    return ApiResponse(await pages.page(deps, listing, params, file_object))


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
    await uploads.remove(deps, req.key.owner, row["id"])
    return ApiResponse({"id": row["id"], "object": "file", "deleted": True})


async def _find(req: ApiRequest, deps: Deps) -> Row:
    """The caller's live file named by the path, or the 404 OpenAI gives for a missing one. An
    expired file is removed after the response."""
    file_id = req.params["file_id"]
    rows = await deps.db.query(f"SELECT {COLUMNS} FROM files WHERE id = ? AND owner = ? "
                               "AND status = 'processed'", (file_id, req.key.owner))
    if not rows:  # missing, another owner's, or not (or no longer) fully stored
        raise _not_found(file_id)
    row = rows[0]
    if row["expires_at"] is not None and row["expires_at"] <= deps.now():
        deps.defer(uploads.remove(deps, req.key.owner, file_id))
        raise _not_found(file_id)
    return row


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
