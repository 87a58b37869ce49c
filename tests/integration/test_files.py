"""/v1/files through the official SDK against the running worker: bytes through R2, rows in D1,
pagination, ownership between keys made with scripts/keys.py, and the upload limit."""
import os

import openai
import pytest

from api.web import MAX_UPLOAD



def test_upload_retrieve_download_delete(owner, write, d1):
    data = os.urandom(2 * 1024 * 1024) + b"\x00\xff end"  # any bytes, intact through the JS edge
    with open(write("blob.bin", data), "rb") as file:
        made = owner.files.create(file=file, purpose="assistants")
    assert made.id.startswith("file-") and len(made.id) == len("file-") + 24
    assert (made.object, made.bytes, made.filename, made.purpose, made.status, made.expires_at) == (
        "file", len(data), "blob.bin", "assistants", "processed", None)
    assert owner.files.retrieve(made.id) == made
    downloaded = owner.files.content(made.id)
    assert downloaded.content == data
    assert downloaded.response.headers["content-disposition"] == 'attachment; filename="blob.bin"'
    assert d1(f"SELECT bytes, purpose FROM files WHERE id = '{made.id}'") == [
        {"bytes": len(data), "purpose": "assistants"}]
    deleted = owner.files.delete(made.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (made.id, "file", True)
    assert d1(f"SELECT id FROM files WHERE id = '{made.id}'") == []
    with pytest.raises(openai.NotFoundError) as gone:
        owner.files.content(made.id)
    assert gone.value.body == {"message": f"No such File object: {made.id}", "type": "invalid_request_error",
                               "param": "id", "code": None}


def test_content_keeps_the_uploaded_type(owner, write):
    with open(write("rows.jsonl", b'{"n": 1}\n'), "rb") as file:
        made = owner.files.create(file=("rows.jsonl", file, "application/jsonl"), purpose="batch",
                                  expires_after={"anchor": "created_at", "seconds": 3600})
    assert made.expires_at == made.created_at + 3600
    downloaded = owner.files.content(made.id)
    assert downloaded.response.headers["content-type"] == "application/jsonl"
    assert downloaded.content == b'{"n": 1}\n'
    owner.files.delete(made.id)


def test_list_paginates_with_the_sdk(owner, write):
    made = []
    for i in range(5):
        with open(write(f"page{i}.txt", f"page {i}".encode()), "rb") as file:
            made.append(owner.files.create(file=file, purpose="user_data").id)
    first = owner.files.list(limit=2, purpose="user_data")
    assert len(first.data) == 2 and first.has_more is True
    pages = list(first.iter_pages())
    assert [len(page.data) for page in pages] == [2, 2, 1]
    walked = [f.id for f in owner.files.list(limit=2, purpose="user_data")]  # auto-pagination
    assert sorted(walked) == sorted(made) and len(walked) == 5
    ascending = [f.id for f in owner.files.list(limit=2, order="asc", purpose="user_data")]
    assert ascending == walked[::-1]
    assert [f.created_at for f in owner.files.list(purpose="user_data")] == sorted(
        (f.created_at for f in owner.files.list(purpose="user_data")), reverse=True)
    for file_id in made:
        owner.files.delete(file_id)
    assert owner.files.list(purpose="user_data").data == []


def test_another_key_gets_404_and_an_empty_list(owner, stranger, write):
    with open(write("secret.txt", b"mine only"), "rb") as file:
        made = owner.files.create(file=file, purpose="assistants")
    for call in (stranger.files.retrieve, stranger.files.content, stranger.files.delete):
        with pytest.raises(openai.NotFoundError) as refused:
            call(made.id)
        assert refused.value.body["message"] == f"No such File object: {made.id}"
    assert stranger.files.list().data == []
    assert owner.files.content(made.id).content == b"mine only"
    owner.files.delete(made.id)


def test_unknown_purpose_is_400(owner, write):
    with open(write("x.txt", b"x"), "rb") as file:
        with pytest.raises(openai.BadRequestError) as refused:
            owner.files.create(file=file, purpose="nonsense")
    assert refused.value.param == "purpose"


def test_an_upload_over_the_limit_is_413(owner, write):
    with open(write("huge.bin", b"\0" * (MAX_UPLOAD + 1)), "rb") as file:
        with pytest.raises(openai.APIStatusError) as refused:
            owner.files.create(file=file, purpose="assistants")
    assert (refused.value.status_code, refused.value.code) == (413, "request_too_large")
    assert owner.files.list(purpose="assistants").data == []
