"""api.resources.files: upload to R2 + D1, list with pagination, retrieve, content, delete;
ownership between keys, expiry, validation, and the cleanup when the row cannot be written."""
import pytest

from api import app, auth
from api.web import MAX_UPLOAD
from fakes import MemoryBinary, SqliteDB
from unit.support import AUTH, NOW, call, drain, error, request, run

OTHER_SECRET = "sk-other-owner"
OTHER = {"authorization": f"Bearer {OTHER_SECRET}"}
MULTIPART = {"content-type": "multipart/form-data; boundary=x"}


@pytest.fixture(autouse=True)
def second_key(deps):
    """A stored key (owner key_other) beside the local dev key (owner local-dev)."""
    deps.db.conn.execute("INSERT INTO api_keys (id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                         ("key_other", "other", auth.key_hash(OTHER_SECRET), OTHER_SECRET[:10], NOW))
    yield


def upload(deps, data=b"hello files", filename="notes.txt", content_type="text/plain",
           headers=AUTH, file=None, **fields):
    """POST /v1/files as multipart: `file` (made from data unless given) and the fields
    (purpose assistants unless given; None leaves a field out)."""
    form = {"file": [file if file is not None else MemoryBinary(data, content_type, filename)]}
    form.update({name: [value] for name, value in {"purpose": "assistants", **fields}.items()
                 if value is not None})
    req = request("POST", "/v1/files", headers={**headers, **MULTIPART}, form=form)
    return run(app.handle(req, deps))


def created(deps, **kwargs) -> dict:
    response = upload(deps, **kwargs)
    assert response.status == 200, response.body
    return response.body


def get(deps, path, headers=AUTH, **query):
    return call(deps, "GET", path, headers=headers, query={k: str(v) for k, v in query.items()})


def file_row(deps, file_id):
    return [dict(r) for r in deps.db.conn.execute("SELECT * FROM files WHERE id = ?", (file_id,))]


def missing(file_id) -> dict:
    return error(f"No such File object: {file_id}", param="id")


# --- upload -----------------------------------------------------------------------------------------

def test_upload_stores_the_object_then_the_row_and_answers_a_file_object(deps):
    body = created(deps)
    assert body == {"id": "file-0002", "object": "file", "bytes": 11, "created_at": NOW,
                    "filename": "notes.txt", "purpose": "assistants", "status": "processed"}
    stored = deps.blobs.objects["files/file-0002"]
    assert (stored.data, stored.content_type, stored.metadata) == (
        b"hello files", "text/plain", {"owner": "local-dev", "purpose": "assistants"})
    assert file_row(deps, "file-0002") == [{
        "id": "file-0002", "owner": "local-dev", "bytes": 11, "created_at": NOW, "expires_at": None,
        "filename": "notes.txt", "purpose": "assistants", "status": "processed"}]


def test_the_upload_is_handed_to_the_bucket_as_it_is(deps):
    handed = []

    async def put(key, data, content_type, metadata=None):
        handed.append(data)
    deps.blobs.put = put
    file = MemoryBinary(b"x" * 5, "application/jsonl", "batch.jsonl")
    created(deps, file=file, purpose="batch")
    assert handed == [file]  # the Binary itself, never bytes read into Python


@pytest.mark.parametrize("purpose", ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"])
def test_every_uploadable_purpose_is_accepted(deps, purpose):
    assert created(deps, purpose=purpose)["purpose"] == purpose


def test_expires_after_sets_expires_at(deps):
    body = created(deps, **{"expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"})
    assert body["expires_at"] == NOW + 3600
    assert file_row(deps, body["id"])[0]["expires_at"] == NOW + 3600


def test_batch_files_expire_after_30_days_unless_told(deps):
    assert created(deps, purpose="batch")["expires_at"] == NOW + 2592000
    assert created(deps, purpose="batch", **{"expires_after[anchor]": "created_at",
                                             "expires_after[seconds]": "7200"})["expires_at"] == NOW + 7200


def test_a_file_without_a_name_or_type_gets_defaults(deps):
    body = created(deps, file=MemoryBinary(b"abc", "", ""))
    assert body["filename"] == "file"
    assert deps.blobs.objects[f"files/{body['id']}"].content_type == "application/octet-stream"


@pytest.mark.parametrize("fields, expected", [
    ({"purpose": "fine-tune-results"}, ("Invalid value for 'purpose': unexpected value; permitted: 'assistants', "
                                        "'batch', 'fine-tune', 'vision', 'user_data', 'evals'.", "purpose",
                                        "invalid_value")),
    ({"purpose": None}, ("Missing required parameter: 'purpose'.", "purpose", "missing_required_parameter")),
    ({"expires_after[anchor]": "created_at", "expires_after[seconds]": "60"},
     ("Invalid value for 'expires_after.seconds': ensure this value is greater than or equal to 3600.",
      "expires_after.seconds", "invalid_value")),
    ({"expires_after[anchor]": "created_at", "expires_after[seconds]": "2592001"},
     ("Invalid value for 'expires_after.seconds': ensure this value is less than or equal to 2592000.",
      "expires_after.seconds", "invalid_value")),
    ({"expires_after[anchor]": "last_active_at", "expires_after[seconds]": "3600"},
     ("Invalid value for 'expires_after.anchor': unexpected value; permitted: 'created_at'.",
      "expires_after.anchor", "invalid_value")),
    ({"expires_after[seconds]": "3600"},
     ("Missing required parameter: 'expires_after.anchor'.", "expires_after.anchor",
      "missing_required_parameter")),
], ids=["unknown-purpose", "no-purpose", "expiry-too-short", "expiry-too-long", "bad-anchor", "no-anchor"])
def test_invalid_fields_are_400_naming_the_parameter(deps, fields, expected):
    response = upload(deps, **fields)
    message, param, code = expected
    assert (response.status, response.body) == (400, error(message, param=param, code=code))
    assert deps.blobs.objects == {} and deps.db.conn.execute("SELECT * FROM files").fetchall() == []


def test_file_must_be_an_upload(deps):
    response = upload(deps, file="just text")
    assert (response.status, response.body) == (400, error(
        "Invalid value for 'file': it must be a file upload.", param="file", code="invalid_value"))


def test_missing_file_is_400(deps):
    req = request("POST", "/v1/files", headers={**AUTH, **MULTIPART}, form={"purpose": ["assistants"]})
    response = run(app.handle(req, deps))
    assert (response.status, response.body) == (400, error(
        "Missing required parameter: 'file'.", param="file", code="missing_required_parameter"))


def test_a_json_body_is_refused(deps):
    response = call(deps, "POST", "/v1/files", {"purpose": "assistants"})
    assert (response.status, response.body) == (400, error(
        "This endpoint takes multipart/form-data.", code="invalid_content_type"))


def test_an_oversized_multipart_body_is_413(deps):
    req = request("POST", "/v1/files", headers={**AUTH, **MULTIPART}, form={}, oversized=True)
    response = run(app.handle(req, deps))
    assert (response.status, response.body) == (413, error(
        f"Request body too large: the limit is {MAX_UPLOAD} bytes.", code="request_too_large"))


def test_a_file_over_the_upload_limit_is_413_and_not_stored(deps):
    big = MemoryBinary(b"x", "text/plain", "big.txt")
    big.size = MAX_UPLOAD + 1
    response = upload(deps, file=big)
    assert (response.status, response.body["error"]["code"]) == (413, "request_too_large")
    assert deps.blobs.objects == {}


# --- never half-visible -------------------------------------------------------------------------------

class FailingDB(SqliteDB):
    """D1 failing the statements that start with `failing`."""

    def __init__(self, failing: str):
        super().__init__()
        self.failing = failing

    async def execute(self, sql, params=()):
        if sql.startswith(self.failing):
            raise RuntimeError("D1_ERROR: simulated outage")
        await super().execute(sql, params)


def test_when_the_row_cannot_be_written_nothing_is_stored(deps):
    deps.db = FailingDB("INSERT INTO files")
    response = upload(deps)
    assert (response.status, response.body["error"]["type"]) == (500, "server_error")
    assert deps.blobs.objects == {}
    assert deps.db.conn.execute("SELECT * FROM files").fetchall() == []


def test_when_the_row_cannot_go_live_the_object_and_row_are_removed(deps):
    deps.db = FailingDB("UPDATE files SET status = 'processed'")
    assert upload(deps).status == 500
    assert deps.blobs.objects == {}
    assert deps.db.conn.execute("SELECT * FROM files").fetchall() == []


def test_a_failed_cleanup_leaves_only_an_invisible_row_never_an_object_without_one(deps):
    deps.db, lines = FailingDB("UPDATE files SET status = 'processed'"), []
    deps.log = lines.append

    async def refuse(key):
        raise RuntimeError("R2 down")
    deps.blobs.delete = refuse
    assert upload(deps).status == 500
    assert list(deps.blobs.objects) == ["files/file-0002"]
    assert [tuple(r) for r in deps.db.conn.execute("SELECT id, status FROM files")] == [("file-0002", "uploading")]
    assert "file file-0002: not erased; its invisible row (and maybe its object) remain" in lines
    assert get(deps, "/v1/files").body["data"] == []
    assert get(deps, "/v1/files/file-0002").status == 404


def test_when_the_object_cannot_be_written_no_row_is_left(deps):
    async def refuse(*args, **kwargs):
        raise RuntimeError("R2 down")
    deps.blobs.put = refuse
    assert upload(deps).status == 500
    assert deps.db.conn.execute("SELECT * FROM files").fetchall() == []


# --- list and pagination ---------------------------------------------------------------------------

def uploaded(deps, count, **kwargs) -> list:
    """`count` files, one second apart: their ids, oldest first."""
    ids = []
    for _ in range(count):
        ids.append(created(deps, **kwargs)["id"])
        deps.now.now += 1
    return ids


def test_list_is_newest_first_with_openai_pagination_fields(deps):
    ids = uploaded(deps, 3)
    body = get(deps, "/v1/files").body
    assert [f["id"] for f in body["data"]] == ids[::-1]
    assert body["data"][0] == {"id": ids[2], "object": "file", "bytes": 11, "created_at": NOW + 2,
                               "filename": "notes.txt", "purpose": "assistants", "status": "processed"}
    assert (body["object"], body["first_id"], body["last_id"], body["has_more"]) == ("list", ids[2], ids[0], False)


def test_an_empty_list(deps):
    assert get(deps, "/v1/files").body == {"object": "list", "data": [], "first_id": None, "last_id": None,
                                           "has_more": False}


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_pages_follow_the_after_cursor(deps, order):
    ids = uploaded(deps, 5)
    expected = ids[::-1] if order == "desc" else ids
    seen, after = [], None
    while True:
        query = {"limit": 2, "order": order, **({"after": after} if after else {})}
        body = get(deps, "/v1/files", **query).body
        seen.append([f["id"] for f in body["data"]])
        assert (body["first_id"], body["last_id"]) == (seen[-1][0], seen[-1][-1])
        if not body["has_more"]:
            break
        after = body["last_id"]
    assert seen == [expected[0:2], expected[2:4], expected[4:]]


def test_files_of_the_same_second_are_ordered_by_id(deps):
    ids = [created(deps)["id"] for _ in range(3)]
    assert [f["id"] for f in get(deps, "/v1/files", limit=2).body["data"]] == sorted(ids, reverse=True)[:2]
    second = get(deps, "/v1/files", limit=2, after=sorted(ids, reverse=True)[1]).body
    assert ([f["id"] for f in second["data"]], second["has_more"]) == ([min(ids)], False)


def test_a_limit_equal_to_the_rest_has_no_more(deps):
    uploaded(deps, 2)
    assert get(deps, "/v1/files", limit=2).body["has_more"] is False
    assert get(deps, "/v1/files", limit=1).body["has_more"] is True


def test_list_filters_by_purpose(deps):
    [batch] = uploaded(deps, 1, purpose="batch")
    uploaded(deps, 2, purpose="assistants")
    assert [f["id"] for f in get(deps, "/v1/files", purpose="batch").body["data"]] == [batch]
    assert get(deps, "/v1/files", purpose="vision").body["data"] == []


@pytest.mark.parametrize("query, param, message", [
    ({"limit": 0}, "limit", "Invalid value for 'limit': ensure this value is greater than or equal to 1."),
    ({"limit": 10001}, "limit", "Invalid value for 'limit': ensure this value is less than or equal to 10000."),
    ({"limit": "many"}, "limit", "Invalid type for 'limit': expected an integer, but got a string instead."),
    ({"limit": "2.0"}, "limit", "Invalid type for 'limit': expected an integer, but got a string instead."),
    ({"order": "newest"}, "order", "Invalid value for 'order': unexpected value; permitted: 'asc', 'desc'."),
])
def test_invalid_list_parameters_are_400(deps, query, param, message):
    response = get(deps, "/v1/files", **query)
    code = "invalid_type" if message.startswith("Invalid type") else "invalid_value"
    assert (response.status, response.body) == (400, error(message, param=param, code=code))


def test_an_unknown_cursor_is_400(deps):
    response = get(deps, "/v1/files", after="file-gone")
    assert (response.status, response.body) == (400, error(
        "Invalid value for 'after': no file file-gone to list after (it may have been deleted).",
        param="after", code="invalid_value"))


# --- retrieve, content, delete -----------------------------------------------------------------------

def test_retrieve_answers_the_file_object(deps):
    body = created(deps)
    response = get(deps, f"/v1/files/{body['id']}")
    assert (response.status, response.body) == (200, body)


def test_content_streams_the_stored_object_as_an_attachment(deps):
    body = created(deps, data=b'{"a": 1}\n', filename="data.jsonl", content_type="application/jsonl")
    response = get(deps, f"/v1/files/{body['id']}/content")
    assert response.status == 200
    assert response.body is deps.blobs.objects[f"files/{body['id']}"]  # the object itself, not bytes
    assert run(response.body.read()) == b'{"a": 1}\n'
    assert {k: response.headers[k] for k in ("content-type", "content-disposition", "x-content-type-options")} == {
        "content-type": "application/jsonl", "content-disposition": 'attachment; filename="data.jsonl"',
        "x-content-type-options": "nosniff"}


@pytest.mark.parametrize("filename, disposition", [
    ('say "hi".txt', "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt"),
    ("résumé.pdf", "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"),
])
def test_content_disposition_is_ascii_for_any_filename(deps, filename, disposition):
    body = created(deps, filename=filename)
    assert get(deps, f"/v1/files/{body['id']}/content").headers["content-disposition"] == disposition


def test_a_row_without_its_object_is_404_and_logged(deps):
    lines = []
    deps.log = lines.append
    body = created(deps)
    del deps.blobs.objects[f"files/{body['id']}"]
    response = get(deps, f"/v1/files/{body['id']}/content")
    assert (response.status, response.body) == (404, missing(body["id"]))
    assert any("has a row but no object" in line for line in lines)


def test_delete_removes_the_row_and_the_object(deps):
    body = created(deps)
    response = call(deps, "DELETE", f"/v1/files/{body['id']}")
    assert (response.status, response.body) == (200, {"id": body["id"], "object": "file", "deleted": True})
    assert deps.blobs.objects == {} and file_row(deps, body["id"]) == []
    for path in (f"/v1/files/{body['id']}", f"/v1/files/{body['id']}/content"):
        assert (get(deps, path).status, get(deps, path).body) == (404, missing(body["id"]))
    again = call(deps, "DELETE", f"/v1/files/{body['id']}")
    assert (again.status, again.body) == (404, missing(body["id"]))


def test_delete_succeeds_when_the_object_cannot_be_removed(deps):
    lines = []
    deps.log = lines.append

    async def refuse(key):
        raise RuntimeError("R2 down")
    body = created(deps)
    deps.blobs.delete = refuse
    assert call(deps, "DELETE", f"/v1/files/{body['id']}").body["deleted"] is True
    # The object stays, with its row, which is invisible: gone for every caller, never an orphan.
    assert [tuple(r) for r in deps.db.conn.execute("SELECT status FROM files")] == [("deleting",)]
    assert get(deps, f"/v1/files/{body['id']}").status == 404
    assert f"file {body['id']}: not erased; its invisible row (and maybe its object) remain" in lines


def test_unknown_ids_are_404(deps):
    for method, path in [("GET", "/v1/files/file-nope"), ("GET", "/v1/files/file-nope/content"),
                         ("DELETE", "/v1/files/file-nope")]:
        response = call(deps, method, path)
        assert (response.status, response.body) == (404, missing("file-nope"))


# --- ownership ---------------------------------------------------------------------------------------

def test_another_key_neither_sees_nor_touches_a_file(deps):
    mine = created(deps)["id"]
    for method, path in [("GET", f"/v1/files/{mine}"), ("GET", f"/v1/files/{mine}/content"),
                         ("DELETE", f"/v1/files/{mine}")]:
        response = call(deps, method, path, headers=OTHER)
        assert (response.status, response.body) == (404, missing(mine))
    assert get(deps, "/v1/files", headers=OTHER).body["data"] == []
    assert get(deps, "/v1/files", headers=OTHER, after=mine).status == 400  # not even as a cursor
    assert get(deps, f"/v1/files/{mine}").status == 200 and f"files/{mine}" in deps.blobs.objects


def test_each_key_lists_only_its_own_files(deps):
    mine = created(deps)["id"]
    theirs = created(deps, headers=OTHER)["id"]
    assert file_row(deps, theirs)[0]["owner"] == "key_other"
    assert [f["id"] for f in get(deps, "/v1/files").body["data"]] == [mine]
    assert [f["id"] for f in get(deps, "/v1/files", headers=OTHER).body["data"]] == [theirs]


def test_keys_of_one_project_share_files(deps):
    deps.db.conn.execute("UPDATE api_keys SET project = 'proj_a' WHERE id = 'key_other'")
    deps.db.conn.execute("INSERT INTO api_keys (id, name, key_hash, prefix, project, created_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)", ("key_third", "third", auth.key_hash("sk-third"),
                                                       "sk-third", "proj_a", NOW))
    theirs = created(deps, headers=OTHER)["id"]
    assert get(deps, f"/v1/files/{theirs}", headers={"authorization": "Bearer sk-third"}).status == 200


# --- expiry ------------------------------------------------------------------------------------------

def test_an_expired_file_behaves_as_deleted_and_is_removed(deps):
    body = created(deps, **{"expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"})
    keep = created(deps)["id"]
    deps.now.now = NOW + 3599
    assert get(deps, f"/v1/files/{body['id']}").status == 200
    deps.now.now = NOW + 3600
    assert [f["id"] for f in get(deps, "/v1/files").body["data"]] == [keep]
    for method, path in [("GET", f"/v1/files/{body['id']}"), ("GET", f"/v1/files/{body['id']}/content"),
                         ("DELETE", f"/v1/files/{body['id']}")]:
        response = call(deps, method, path)
        assert (response.status, response.body) == (404, missing(body["id"]))
    assert file_row(deps, body["id"]) != []  # removal runs after the response
    run(drain(deps))
    assert file_row(deps, body["id"]) == [] and list(deps.blobs.objects) == [f"files/{keep}"]


def test_an_expired_cursor_still_places_the_page(deps):
    first = created(deps, **{"expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"})["id"]
    deps.now.now += 1
    second = created(deps)["id"]
    deps.now.now = NOW + 4000
    assert [f["id"] for f in get(deps, "/v1/files", order="asc", after=first).body["data"]] == [second]
