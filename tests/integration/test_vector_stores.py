"""/v1/vector_stores through the official SDK against the running worker: ingestion on the local
Queue (R2 → text → ai-standin embeddings → vectorize-standin + D1 chunks), search, attribute
filters, cascading deletes and ownership between keys."""
import time

import openai
import pytest

from pdfs import pdf

CAT = b"The cat sat on the mat and purred at the cat flap."
ROCKET = b"Rocket engines burn liquid oxygen and kerosene to reach orbit."
SOUP = b"Tomato soup recipe: simmer tomatoes, garlic and basil."



def upload_and_poll(client, vs_id, path, **kwargs):
    with open(path, "rb") as file:
        return client.vector_stores.files.upload_and_poll(vector_store_id=vs_id, file=file, poll_interval_ms=200,
                                                          **kwargs)


def search(client, vs_id, query, deadline=10.0, **kwargs):
    """Search, again until something is found: a completed file's vectors are queryable soon after."""
    until = time.monotonic() + deadline
    while True:
        found = list(client.vector_stores.search(vector_store_id=vs_id, query=query, **kwargs))
        if found or time.monotonic() > until:
            return found
        time.sleep(0.2)


def test_files_are_ingested_and_searched(owner, write, d1):
    vs = owner.vector_stores.create(name="docs", metadata={"team": "core"})
    assert (vs.object, vs.name, vs.metadata, vs.status) == ("vector_store", "docs", {"team": "core"}, "completed")
    files = {name: upload_and_poll(owner, vs.id, write(name, data)) for name, data in
             [("cat.txt", CAT), ("rocket.md", ROCKET), ("soup.html", b"<p>" + SOUP + b"</p>")]}
    assert {f.status for f in files.values()} == {"completed"}
    assert files["cat.txt"].usage_bytes == len(CAT)
    retrieved = owner.vector_stores.retrieve(vs.id)
    assert (retrieved.file_counts.completed, retrieved.file_counts.total, retrieved.usage_bytes) == (
        3, 3, sum(f.usage_bytes for f in files.values()))
    found = search(owner, vs.id, "rocket engines reach orbit")
    assert found[0].file_id == files["rocket.md"].id and found[0].filename == "rocket.md"
    assert found[0].content[0].text == ROCKET.decode()
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
    chunk_ids = [r["id"] for r in d1(f"SELECT id FROM chunks WHERE vector_store_id = '{vs.id}' ORDER BY id")]
    assert chunk_ids == sorted(f"{vs.id}:{f.id}:0" for f in files.values())


def test_ingesting_a_file_again_adds_no_chunks(owner, write, d1):
    # Re-attaching queues the same ingestion job again: what a redelivered message does.
    vs = owner.vector_stores.create(name="twice")
    distinct = " ".join(f"rocket{i} engines reach orbit." for i in range(300)).encode()
    first = upload_and_poll(owner, vs.id, write("rocket.txt", distinct),
                            chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 100,
                                                                           "chunk_overlap_tokens": 0}})
    counted = d1(f"SELECT COUNT(*) AS n FROM chunks WHERE vector_store_id = '{vs.id}'")[0]["n"]
    assert counted > 1
    again = owner.vector_stores.files.create_and_poll(
        vector_store_id=vs.id, file_id=first.id, poll_interval_ms=200,
        chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}})
    assert again.status == "completed"
    assert d1(f"SELECT COUNT(*) AS n FROM chunks WHERE vector_store_id = '{vs.id}'")[0]["n"] == counted
    found = search(owner, vs.id, "rocket engines reach orbit", max_num_results=50)
    texts = [r.content[0].text for r in found]
    assert texts and len(texts) == len(set(texts))  # every chunk's text is distinct: none is in the index twice


def test_batches_attributes_filters_and_cascades(owner, write):
    vs = owner.vector_stores.create(name="filtered")
    paths = [write("cat.txt", CAT), write("rocket.txt", ROCKET), write("soup.txt", SOUP)]
    handles = [open(path, "rb") for path in paths]
    try:
        batch = owner.vector_stores.file_batches.upload_and_poll(vector_store_id=vs.id, files=handles,
                                                                 poll_interval_ms=200)
    finally:
        for handle in handles:
            handle.close()
    assert (batch.object, batch.status, batch.file_counts.completed) == ("vector_store.files_batch", "completed", 3)
    listed = {f.id for f in owner.vector_stores.file_batches.list_files(batch_id=batch.id, vector_store_id=vs.id)}
    assert len(listed) == 3
    by_name = {owner.files.retrieve(file_id).filename: file_id for file_id in listed}
    for name, kind in [("cat.txt", "pet"), ("rocket.txt", "space"), ("soup.txt", "food")]:
        updated = owner.vector_stores.files.update(file_id=by_name[name], vector_store_id=vs.id,
                                                   attributes={"kind": kind})
        assert updated.attributes == {"kind": kind}
    assert search(owner, vs.id, "cat")[0].filename == "cat.txt"
    found = search(owner, vs.id, "cat mat purred", filters={"type": "eq", "key": "kind", "value": "food"})
    assert {r.filename for r in found} == {"soup.txt"} and found[0].attributes == {"kind": "food"}
    found = search(owner, vs.id, "cat", filters={"type": "in", "key": "kind", "value": ["pet", "space"]})
    assert {r.filename for r in found} == {"cat.txt", "rocket.txt"}

    # Detaching removes a file from search; deleting the File detaches it; deleting the store the rest.
    owner.vector_stores.files.delete(file_id=by_name["cat.txt"], vector_store_id=vs.id)
    assert "cat.txt" not in {r.filename for r in search(owner, vs.id, "cat mat")}
    owner.files.delete(by_name["rocket.txt"])
    assert {f.id for f in owner.vector_stores.files.list(vector_store_id=vs.id)} == {by_name["soup.txt"]}
    assert owner.vector_stores.delete(vs.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        owner.vector_stores.retrieve(vs.id)


def test_bad_files_end_failed_with_a_reason(owner, write):
    vs = owner.vector_stores.create(name="bad")
    empty = upload_and_poll(owner, vs.id, write("empty.txt", b""))
    garbage = upload_and_poll(owner, vs.id, write("garbage.txt", bytes(range(256)) * 8))
    assert (empty.status, empty.last_error.code, empty.last_error.message) == (
        "failed", "invalid_file", "The file is empty.")
    assert (garbage.status, garbage.last_error.message) == ("failed", "The file is binary, not text.")
    assert owner.vector_stores.retrieve(vs.id).file_counts.failed == 2


def test_another_key_gets_404s_and_empty_lists(owner, stranger, write):
    vs = owner.vector_stores.create(name="private")
    attached = upload_and_poll(owner, vs.id, write("cat.txt", CAT))
    with pytest.raises(openai.NotFoundError):
        stranger.vector_stores.retrieve(vs.id)
    with pytest.raises(openai.NotFoundError):
        stranger.vector_stores.search(vector_store_id=vs.id, query="cat")
    with pytest.raises(openai.NotFoundError):
        stranger.vector_stores.files.retrieve(file_id=attached.id, vector_store_id=vs.id)
    with pytest.raises(openai.NotFoundError):
        stranger.vector_stores.delete(vs.id)
    assert vs.id not in {s.id for s in stranger.vector_stores.list()}
    assert vs.id in {s.id for s in owner.vector_stores.list()}


def test_unsupported_search_options_are_refused(owner):
    vs = owner.vector_stores.create(name="options")
    with pytest.raises(openai.BadRequestError) as refused:
        owner.vector_stores.search(vector_store_id=vs.id, query="x", rewrite_query=True)
    assert refused.value.body["code"] == "unsupported_parameter"


def test_pdf_and_empty_files_in_the_worker(owner, write):
    """pypdf runs in Pyodide (vendored); an empty object in R2 is still found (size 0)."""
    vs = owner.vector_stores.create(name="pdf")
    done = upload_and_poll(owner, vs.id, write("report.pdf", pdf("Quarterly revenue grew")))
    assert (done.status, done.last_error) == ("completed", None)
    assert search(owner, vs.id, "quarterly revenue")[0].content[0].text == "Quarterly revenue grew"
    with open(write("nothing.txt", b""), "rb") as file:
        empty = owner.files.create(file=file, purpose="assistants")
    assert owner.files.content(empty.id).content == b""
