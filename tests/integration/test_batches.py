"""/v1/batches through the official SDK against the running worker (stand-in model): chat, embedding
and responses batches completing with output and error files in OpenAI's format (each body valid
against OpenAI's schema), Workers AI's async batch API used for its models, bad lines, cancel
mid-batch, a consumer taken for dead and a redelivered run duplicating no line, ownership."""
import io
import json
import time

import openai
import pytest

from integration.devserver import wrangler
from openai_spec import check

BODY_SCHEMAS = {"/v1/chat/completions": "CreateChatCompletionResponse", "/v1/embeddings": "CreateEmbeddingResponse",
                "/v1/responses": "Response", "/v1/completions": "CreateCompletionResponse",
                "/v1/moderations": "CreateModerationResponse"}


def jsonl(lines) -> io.BytesIO:
    data = b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)
    return io.BytesIO(data)


def chat(custom_id, text, model="gpt-4o-mini", **body) -> dict:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": model, "messages": [{"role": "user", "content": text}], **body}}


def start(client, lines, endpoint="/v1/chat/completions", **fields):
    uploaded = client.files.create(file=("requests.jsonl", jsonl(lines), "application/jsonl"), purpose="batch")
    return client.batches.create(input_file_id=uploaded.id, endpoint=endpoint, completion_window="24h", **fields)


def wait_for(client, batch_id, statuses=("completed", "failed", "cancelled", "expired"), deadline=60.0):
    until = time.monotonic() + deadline
    while True:
        batch = client.batches.retrieve(batch_id)
        if batch.status in statuses or time.monotonic() > until:
            return batch
        time.sleep(0.2)


def lines_of(client, file_id) -> list:
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines()]


def checked(http, batch_id) -> dict:
    body = http.get(f"/v1/batches/{batch_id}").json()
    check("Batch", body)
    return body


def test_a_chat_batch_completes_with_output_and_error_files(client, http, d1, server):
    lines = [chat("plain", "hello there"), chat("queued-1", "first", model="gpt-4o"),
             chat("queued-2", "second", model="gpt-4o"), chat("bad-model", "x", model="gpt-9-ultra"),
             chat("streamed", "x", stream=True)]
    batch = start(client, lines, metadata={"job": "it"})
    assert (batch.status, batch.metadata, batch.completion_window) == ("validating", {"job": "it"}, "24h")
    done = wait_for(client, batch.id)
    assert done.status == "completed", done
    assert done.request_counts.model_dump() == {"total": 5, "completed": 3, "failed": 2}
    assert done.created_at <= done.in_progress_at <= done.finalizing_at <= done.completed_at
    checked(http, done.id)
    output = lines_of(client, done.output_file_id)
    assert [line["custom_id"] for line in output] == ["plain", "queued-1", "queued-2"]
    for line in output:
        assert line["id"].startswith("batch_req_") and line["error"] is None
        assert line["response"]["status_code"] == 200 and line["response"]["request_id"].startswith("req_")
        check("CreateChatCompletionResponse", line["response"]["body"])
    assert [line["response"]["body"]["choices"][0]["message"]["content"] for line in output] == [
        "Echo: hello there", "Echo: first", "Echo: second"]
    errors = lines_of(client, done.error_file_id)
    assert [(e["custom_id"], e["response"]["status_code"], e["response"]["body"]["error"]["param"]) for e in errors] == [
        ("bad-model", 404, "model"), ("streamed", 400, "stream")]
    for line in errors:
        check("ErrorResponse", line["response"]["body"])
    assert "calling directly" not in server.log_path.read_text()  # the queued lines went through the batch API
    files = {f.id: f for f in client.files.list(purpose="batch_output")}
    assert files[done.output_file_id].filename == f"{done.id}_output.jsonl"
    time.sleep(2.5)  # usage lands through the Queue
    ids = [line["response"]["request_id"] for line in output]
    assert sorted(r["id"] for r in d1(f"SELECT id FROM usage_events WHERE id IN ({', '.join(repr(i) for i in ids)})")) \
        == sorted(ids)


def test_embedding_and_responses_batches(client):
    embeddings = [{"custom_id": f"e{i}", "method": "POST", "url": "/v1/embeddings",
                   "body": {"model": "text-embedding-3-small", "input": [f"text {i}", "more"]}} for i in range(4)]
    responses = [{"custom_id": f"r{i}", "method": "POST", "url": "/v1/responses",
                  "body": {"model": "gpt-4o", "input": f"say {i}"}} for i in range(3)]
    done = [wait_for(client, start(client, embeddings, endpoint="/v1/embeddings").id),
            wait_for(client, start(client, responses, endpoint="/v1/responses").id)]
    assert [(b.status, b.model, b.request_counts.completed) for b in done] == [
        ("completed", "text-embedding-3-small", 4), ("completed", "gpt-4o", 3)]
    vectors = lines_of(client, done[0].output_file_id)
    for line in vectors:
        check(BODY_SCHEMAS["/v1/embeddings"], line["response"]["body"])
    assert [len(line["response"]["body"]["data"]) for line in vectors] == [2] * 4
    assert len(vectors[0]["response"]["body"]["data"][0]["embedding"]) == 768
    answers = lines_of(client, done[1].output_file_id)
    for line in answers:
        check(BODY_SCHEMAS["/v1/responses"], line["response"]["body"])
    assert [line["response"]["body"]["output"][0]["content"][0]["text"] for line in answers] == [
        "Echo: say 0", "Echo: say 1", "Echo: say 2"]


def test_bad_lines_fail_the_batch(client, http):
    lines = [chat("a", "x"), b"{oops", {**chat("b", "x"), "url": "/v1/embeddings"}, chat("a", "again")]
    done = wait_for(client, start(client, lines).id)
    assert done.status == "failed" and done.failed_at
    assert [(e.line, e.code) for e in done.errors.data] == [(2, "invalid_json_line"), (3, "invalid_url"),
                                                            (4, "duplicate_custom_id")]
    checked(http, done.id)
    with pytest.raises(openai.BadRequestError) as refused:
        client.batches.create(input_file_id="file-x", endpoint="/v1/chat/completions", completion_window="1h")
    assert refused.value.param == "completion_window"


def test_cancel_mid_batch_keeps_the_lines_done(client, http):
    count = 160
    lines = [chat(f"l{i}", f"[[slow:600]] line {i}") for i in range(count)]  # 8 at a time: ~12 s
    batch = start(client, lines)
    wait_for(client, batch.id, statuses=("in_progress",))
    while client.batches.retrieve(batch.id).request_counts.completed == 0:
        time.sleep(0.2)
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at
    done = wait_for(client, batch.id)
    assert done.status == "cancelled" and done.cancelled_at
    ran = [line["custom_id"] for line in lines_of(client, done.output_file_id)]
    skipped = lines_of(client, done.error_file_id)
    assert 0 < len(ran) < count and len(ran) + len(skipped) == count
    assert {(e["response"], e["error"]["code"]) for e in skipped} == {(None, "batch_cancelled")}
    assert sorted(ran + [e["custom_id"] for e in skipped], key=lambda c: int(c[1:])) == [f"l{i}" for i in range(count)]
    assert done.request_counts.completed == len(ran)
    checked(http, done.id)


def test_a_consumer_taken_for_dead_and_a_redelivery_duplicate_no_line(client, server, d1):
    lines = [chat(f"l{i}", f"[[slow:300]] line {i}") for i in range(30)]
    batch = start(client, lines)
    while client.batches.retrieve(batch.id).request_counts.completed == 0:
        time.sleep(0.2)
    d1_write(server, f"UPDATE runs SET lease_until = 0 WHERE id = '{batch.id}'")  # as if its consumer died
    server.scheduled()  # the sweep queues the run again while the first consumer still works
    done = wait_for(client, batch.id)
    assert (done.status, done.request_counts.completed) == ("completed", 30)
    output = lines_of(client, done.output_file_id)
    assert [line["custom_id"] for line in output] == [f"l{i}" for i in range(30)]
    d1_write(server, f"UPDATE runs SET state = 'queued', updated_at = 0 WHERE id = '{batch.id}'")
    server.scheduled()  # a redelivered message for the finished batch
    time.sleep(3)
    assert lines_of(client, client.batches.retrieve(batch.id).output_file_id) == output
    ids = [line["response"]["request_id"] for line in output]
    assert d1(f"SELECT COUNT(*) AS n FROM usage_events WHERE id IN ({', '.join(repr(i) for i in ids)})") == [{"n": 30}]


def test_other_keys_see_nothing(owner, stranger, http):
    batch = start(owner, [chat("a", "x")])
    for attempt in (lambda: stranger.batches.retrieve(batch.id), lambda: stranger.batches.cancel(batch.id)):
        with pytest.raises(openai.NotFoundError):
            attempt()
    assert stranger.batches.list().data == []
    with pytest.raises(openai.NotFoundError):
        stranger.batches.create(input_file_id=batch.input_file_id, endpoint="/v1/chat/completions",
                                completion_window="24h")
    listed = owner.batches.list(limit=1)
    assert [b.id for b in listed.data] == [batch.id]
    wait_for(owner, batch.id)


def test_the_list_is_valid_against_the_spec(client, http):
    start(client, [chat("a", "x")])
    body = http.get("/v1/batches", params={"limit": 3}).json()
    check("ListBatchesResponse", body)
    assert len(body["data"]) <= 3


def d1_write(server, sql: str) -> None:
    wrangler("d1", "execute", "DB", "--local", "--env", "local", "--persist-to", str(server.state), "--command", sql)
