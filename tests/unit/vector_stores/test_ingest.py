"""api.vector_stores.ingest (through api.jobs): extraction, chunking, embedding, chunk rows and vectors; and that
redelivery, retries and crashes leave exactly one copy of each chunk, and bad files end failed."""
import pytest

from api.vector_stores import chunking, ingest
from api.errors import InvalidRequest, RateLimited, UpstreamError
from api.ports import QueueMessage
from unit.stores_support import (chunk_rows, consume, get, ingest_all, ingest_messages, post, second_key_and_embedder,
                                 store, upload, words)
from pdfs import pdf
from unit.support import call

assert second_key_and_embedder  # the autouse fixture


def attach(deps, data: bytes, filename="notes.txt", **body):
    file_id = upload(deps, data, filename)
    vs = store(deps)["id"]
    response = post(deps, f"/v1/vector_stores/{vs}/files", {"file_id": file_id, **body})
    assert response.status == 200, response.body
    return vs, file_id


def vs_file(deps, vs, file_id):
    return get(deps, f"/v1/vector_stores/{vs}/files/{file_id}").body


def test_attaching_queues_one_job_and_ingestion_completes(deps):
    vs, file_id = attach(deps, words(250).encode(), attributes={"team": "core"},
                         chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 100,
                                                                          "chunk_overlap_tokens": 50}})
    assert vs_file(deps, vs, file_id)["status"] == "in_progress"
    assert [b for b in deps.jobs.sent if b["kind"] == "ingest"] == [
        {"kind": "ingest", "store": vs, "file": file_id, "owner": "local-dev"}]
    assert ingest_all(deps) == {"m0": "ack"}
    rows = chunk_rows(deps)
    assert [(r["id"], r["n"], r["tokens"]) for r in rows] == [(f"{vs}:{file_id}:{n}", n, 100) for n in range(4)]
    assert rows[1]["text"] == words(250).split(" ", 50)[-1][:len(rows[1]["text"])]  # starts at token 50
    assert rows[3]["text"].endswith("alpha249")
    assert set(deps.vectors.vectors) == {r["id"] for r in rows}
    one = deps.vectors.vectors[f"{vs}:{file_id}:2"]
    assert (one["namespace"], one["metadata"]) == (None, {"store_id": vs, "file_id": file_id, "n": 2})
    body = vs_file(deps, vs, file_id)
    assert (body["status"], body["last_error"]) == ("completed", None)
    assert body["usage_bytes"] == sum(len(r["text"].encode()) for r in rows)
    store_body = get(deps, f"/v1/vector_stores/{vs}").body
    assert store_body["file_counts"] == {"in_progress": 0, "completed": 1, "failed": 0, "cancelled": 0, "total": 1}
    assert (store_body["status"], store_body["usage_bytes"]) == ("completed", body["usage_bytes"])
    assert {model for model, _, _ in deps.ai.calls} == {ingest.MODEL}


def test_auto_chunking_is_static_800_400(deps):
    vs, file_id = attach(deps, words(2000).encode())
    assert vs_file(deps, vs, file_id)["chunking_strategy"] == {
        "type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}
    ingest_all(deps)
    assert [r["tokens"] for r in chunk_rows(deps)] == [800, 800, 800, 800]  # starts 0, 400, 800, 1200


def test_embeddings_go_in_batches_of_100(deps):
    attach(deps, words(15000).encode(), chunking_strategy={
        "type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}})
    ingest_all(deps)
    assert [len(inputs["text"]) for _, inputs, _ in deps.ai.calls] == [100, 50]
    assert deps.vectors.upserts == [150] and len(chunk_rows(deps)) == 150


def test_a_redelivered_message_adds_no_chunks(deps):
    vs, file_id = attach(deps, words(250).encode())
    messages = ingest_messages(deps)
    consume(deps, messages)
    before = (chunk_rows(deps), dict(deps.vectors.vectors))
    assert consume(deps, messages + messages) == {"m0": "ack"}
    assert (chunk_rows(deps), dict(deps.vectors.vectors)) == before
    # Even a second full run (the row put back in progress) replaces instead of adding.
    deps.db.conn.execute("UPDATE vector_store_files SET status = 'in_progress'")
    consume(deps, messages)
    assert (chunk_rows(deps), dict(deps.vectors.vectors)) == before


def test_a_crash_mid_file_is_retried_and_completes_once(deps):
    vs, file_id = attach(deps, words(1000).encode(), chunking_strategy={
        "type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 20}})
    [message] = ingest_messages(deps)
    deps.vectors.fail_upserts = 1
    assert consume(deps, [message]) == {"m0": "retry"}
    assert vs_file(deps, vs, file_id)["status"] == "in_progress"
    assert consume(deps, [QueueMessage("m0", message.body, attempts=2)]) == {"m0": "ack"}
    assert vs_file(deps, vs, file_id)["status"] == "completed"
    expected = len(chunking.chunk(words(1000), 100, 20))
    assert expected == 13 and len(chunk_rows(deps)) == expected and len(deps.vectors.vectors) == expected


@pytest.mark.parametrize("error", [RateLimited("busy"), UpstreamError("502"), RuntimeError("D1_ERROR")],
                         ids=["ai-429", "ai-5xx", "d1"])
def test_transient_failures_retry_until_the_last_attempt_marks_failed(deps, error):
    vs, file_id = attach(deps, b"some words to embed")
    [message] = ingest_messages(deps)
    for attempt in range(1, ingest.MAX_ATTEMPTS):
        deps.ai.run.errors.append(error)
        assert consume(deps, [QueueMessage("m", message.body, attempt)]) == {"m": "retry"}
        assert vs_file(deps, vs, file_id)["status"] == "in_progress"
    deps.ai.run.errors.append(error)
    assert consume(deps, [QueueMessage("m", message.body, ingest.MAX_ATTEMPTS)]) == {"m": "ack"}
    body = vs_file(deps, vs, file_id)
    assert (body["status"], body["last_error"]) == (
        "failed", {"code": "server_error", "message": "Ingestion failed; please try again."})


def test_a_refused_embedding_fails_the_file_at_once(deps):
    vs, file_id = attach(deps, b"some words")
    deps.ai.run.errors.append(InvalidRequest("too long"))
    assert ingest_all(deps) == {"m0": "ack"}
    assert vs_file(deps, vs, file_id)["last_error"]["code"] == "invalid_file"


@pytest.mark.parametrize("data, filename, code, message", [
    (b"", "empty.txt", "invalid_file", "The file is empty."),
    (b"   \n\t ", "blank.md", "invalid_file", "The file contains no text."),
    (bytes(range(256)) * 40, "garbage.txt", "invalid_file", "The file is binary, not text."),
    (b"caf\xe9 latin-1 text", "latin.txt", "invalid_file", "The file is not UTF-8 text."),
    (b"\x89PNG\r\n", "image.png", "unsupported_file", "Files of type .png cannot be searched."),
    (b"{not json", "data.json", "invalid_file", "The file is not valid JSON."),
    (b"%PDF-1.4 broken", "broken.pdf", "invalid_file", "The PDF could not be read."),
    (b"a" * (chunking.MAX_TEXT_BYTES + 1), "huge.txt", "invalid_file",
     f"The file is over {chunking.MAX_TEXT_BYTES} bytes, the limit for search."),
], ids=["empty", "blank", "binary", "not-utf8", "image", "bad-json", "bad-pdf", "too-large"])
def test_bad_files_end_failed_with_a_reason(deps, data, filename, code, message):
    vs, file_id = attach(deps, data, filename)
    assert ingest_all(deps) == {"m0": "ack"}
    body = vs_file(deps, vs, file_id)
    assert (body["status"], body["last_error"]) == ("failed", {"code": code, "message": message})
    assert chunk_rows(deps) == [] and deps.vectors.vectors == {}
    assert get(deps, f"/v1/vector_stores/{vs}").body["file_counts"]["failed"] == 1


def test_html_is_searched_without_its_tags(deps):
    html = b"<html><head><title>t</title><style>p{}</style></head><body><p>Hello <b>world</b></p>" \
           b"<script>var x = 1;</script><p>&amp; more</p></body></html>"
    attach(deps, html, "page.html")
    ingest_all(deps)
    assert [r["text"] for r in chunk_rows(deps)] == ["Hello world & more"]


@pytest.mark.parametrize("filename", ["notes.md", "data.csv", "main.py", "app.ts", "x.json", "README"])
def test_text_and_code_files_are_read_as_they_are(deps, filename):
    text = '{"greeting": "hello"}' if filename.endswith(".json") else "def hello():\n    return 'world'"
    attach(deps, text.encode(), filename)
    ingest_all(deps)
    assert [r["text"] for r in chunk_rows(deps)] == [text]


def test_pdf_text_is_extracted(deps):
    vs, file_id = attach(deps, pdf("Quarterly revenue grew"), "report.pdf")
    ingest_all(deps)
    assert vs_file(deps, vs, file_id)["status"] == "completed"
    assert [r["text"] for r in chunk_rows(deps)] == ["Quarterly revenue grew"]


def test_a_job_for_a_detached_file_does_nothing(deps):
    vs, file_id = attach(deps, b"hello")
    messages = ingest_messages(deps)
    assert call(deps, "DELETE", f"/v1/vector_stores/{vs}/files/{file_id}").status == 200
    assert consume(deps, messages) == {"m0": "ack"}
    assert chunk_rows(deps) == [] and deps.ai.calls == []


def test_malformed_jobs_are_acked_and_logged(deps):
    lines = []
    deps.log = lines.append
    assert consume(deps, [QueueMessage("m", {"kind": "ingest", "store": 3})]) == {"m": "ack"}
    assert lines and "malformed" in lines[0]


def test_chunks_cover_the_text_with_the_overlap():
    text = words(10)
    assert chunking.chunk(text, 4, 2) == [(words(4), 4), (" ".join(text.split()[2:6]), 4),
                                          (" ".join(text.split()[4:8]), 4), (" ".join(text.split()[6:10]), 4)]
    assert chunking.chunk("one two", 800, 400) == [("one two", 2)]
    assert chunking.chunk("", 800, 400) == []
