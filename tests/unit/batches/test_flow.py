"""/v1/batches end to end on the core: create, validate, run the lines through the live endpoints
(chat, completions, embeddings, responses, moderations), write the output and error files, usage
per line; bad files; cancel, expiry; ownership."""
import json

import pytest

from api import auth
from api.batches import queued
from unit.batches.support import EchoAI, batch, chat, content, create, jsonl, upload, work
from unit.support import NOW, call, drain, error, post, run

OTHER_SECRET = "sk-other-owner"
OTHER = {"authorization": f"Bearer {OTHER_SECRET}"}
LLAMA_70B, LLAMA_8B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/meta/llama-3.1-8b-instruct-fast"
BGE = "@cf/baai/bge-base-en-v1.5"


@pytest.fixture(autouse=True)
def echo(deps, monkeypatch):
    deps.ai = EchoAI()
    monkeypatch.setattr(queued, "POLL_FIRST", 0)
    monkeypatch.setattr(queued, "POLL_MAX", 0)
    deps.db.conn.execute("INSERT INTO api_keys (id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                         ("key_other", "other", auth.key_hash(OTHER_SECRET), OTHER_SECRET[:10], NOW))
    yield
    run(drain(deps))


def created(deps, lines, **fields) -> dict:
    response = create(deps, lines, **fields)
    assert response.status == 200, response.body
    return response.body


def finished(deps, lines, **fields) -> dict:
    body = created(deps, lines, **fields)
    work(deps)
    return batch(deps, body["id"])


def usage_ids(deps) -> list:
    run(drain(deps))
    return sorted(event["id"] for event in deps.jobs.sent if event["kind"] == "usage")


# --- create ---------------------------------------------------------------------------------------

def test_create_answers_the_batch_validating(deps):
    body = created(deps, [chat("a", "one")], metadata={"job": "nightly"})
    assert body == {"id": "batch_0004", "object": "batch", "endpoint": "/v1/chat/completions",
                    "input_file_id": "file-0002", "completion_window": "24h", "created_at": NOW,
                    "expires_at": NOW + 86400, "metadata": {"job": "nightly"}, "status": "validating",
                    "request_counts": {"total": 0, "completed": 0, "failed": 0}}
    assert deps.runs.sent == [{"kind": "run", "id": "batch_0004"}]


@pytest.mark.parametrize("fields,param,code", [
    ({"completion_window": "1h"}, "completion_window", "invalid_value"),
    ({"endpoint": "/v1/images/generations"}, "endpoint", "invalid_value"),
    ({"endpoint": None}, "endpoint", "invalid_value"),
    ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata", "invalid_value"),
    ({"output_expires_after": {"anchor": "created_at", "seconds": 60}}, "output_expires_after.seconds",
     "invalid_value"),
    ({"output_expires_after": {"anchor": "created_at", "seconds": "3600"}}, "output_expires_after.seconds",
     "invalid_type"),
])
def test_create_refuses_bad_parameters(deps, fields, param, code):
    file_id = upload(deps, jsonl([chat("a", "one")]))
    body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h", **fields}
    response = post(deps, "/v1/batches", {k: v for k, v in body.items() if v is not None})
    assert response.status == 400 and (response.body["error"]["param"], response.body["error"]["code"]) == (
        param, "missing_required_parameter" if fields.get("endpoint", 0) is None else code), response.body
    assert deps.runs.sent == []


def test_create_needs_a_batch_file_of_the_owner(deps):
    other = upload(deps, jsonl([chat("a", "one")]), headers=OTHER)
    response = post(deps, "/v1/batches", {"input_file_id": other, "endpoint": "/v1/chat/completions",
                                          "completion_window": "24h"})
    assert (response.status, response.body) == (404, error(f"No such File object: {other}", param="input_file_id"))
    mine = upload(deps, jsonl([chat("a", "one")]), purpose="user_data")
    response = post(deps, "/v1/batches", {"input_file_id": mine, "endpoint": "/v1/chat/completions",
                                          "completion_window": "24h"})
    assert (response.status, response.body["error"]["param"]) == (400, "input_file_id")


# --- running --------------------------------------------------------------------------------------

def test_a_chat_batch_runs_every_line_through_the_endpoint(deps):
    done = finished(deps, [chat("a", "one"), chat("b", "two"), chat("c", "three", model="nope")])
    assert (done["status"], done["request_counts"]) == ("completed", {"total": 3, "completed": 2, "failed": 1})
    assert (done["in_progress_at"], done["finalizing_at"], done["completed_at"]) == (NOW, NOW, NOW)
    assert "model" not in done  # the lines name two models
    output = content(deps, done["output_file_id"])
    assert [(line["id"], line["custom_id"], line["response"]["status_code"], line["response"]["request_id"],
             line["error"]) for line in output] == [
        ("batch_req_0004_1", "a", 200, "req_0004_1", None), ("batch_req_0004_2", "b", 200, "req_0004_2", None)]
    assert [line["response"]["body"]["choices"][0]["message"]["content"] for line in output] == [
        "Echo: one", "Echo: two"]
    assert output[0]["response"]["body"]["object"] == "chat.completion"
    [failed] = content(deps, done["error_file_id"])
    assert failed == {"id": "batch_req_0004_3", "custom_id": "c", "error": None, "response": {
        "status_code": 404, "request_id": "req_0004_3",
        "body": error("The model `nope` does not exist or you do not have access to it.", param="model",
                      code="model_not_found")}}
    assert done["usage"] == {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 6,
                             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 26}
    assert usage_ids(deps) == ["req_0004_1", "req_0004_2"]  # one per line that used the model
    assert deps.db.conn.execute("SELECT COUNT(*) FROM batch_lines").fetchone()[0] == 0


def test_output_files_are_files_of_the_owner(deps):
    done = finished(deps, [chat("a", "one"), chat("b", "[[fail]]")], output_expires_after={
        "anchor": "created_at", "seconds": 3600})
    files = call(deps, "GET", "/v1/files").body["data"]
    outputs = {f["id"]: f for f in files if f["purpose"] == "batch_output"}
    assert set(outputs) == {done["output_file_id"], done["error_file_id"]}
    assert outputs[done["output_file_id"]]["filename"] == "batch_0004_output.jsonl"
    assert {f["expires_at"] for f in outputs.values()} == {NOW + 3600}
    assert call(deps, "GET", f"/v1/files/{done['output_file_id']}", headers=OTHER).status == 404
    [failed] = content(deps, done["error_file_id"])
    assert (failed["response"]["status_code"], failed["response"]["body"]["error"]["code"]) == (
        429, "rate_limit_exceeded")


def test_the_async_batch_api_serves_lines_of_its_models_in_one_queued_request(deps):
    lines = [chat(f"c{i}", f"text {i}", model="gpt-4o") for i in range(5)] + [chat("x", "direct")]
    done = finished(deps, lines)
    assert done["request_counts"] == {"total": 6, "completed": 6, "failed": 0}
    calls = deps.ai.calls
    queued_calls = [c for c in calls if (c[2] or {}).get("queueRequest")]
    assert len(queued_calls) == 1 and queued_calls[0][0] == LLAMA_70B
    assert [r["messages"][0]["content"] for r in queued_calls[0][1]["requests"]] == [f"text {i}" for i in range(5)]
    assert [c[1] for c in calls if "request_id" in c[1]] == [{"request_id": "q0"}] * 2  # running, then done
    assert [c[0] for c in calls if c[2] is None and "messages" in c[1]] == [LLAMA_8B]
    output = content(deps, done["output_file_id"])
    assert [line["response"]["body"]["choices"][0]["message"]["content"] for line in output] == [
        *(f"Echo: text {i}" for i in range(5)), "Echo: direct"]


def test_a_failed_request_of_a_queued_batch_fails_its_line_only(deps):
    done = finished(deps, [chat("ok", "fine", model="gpt-4o"), chat("bad", "[[fail]]", model="gpt-4o")])
    assert done["request_counts"] == {"total": 2, "completed": 1, "failed": 1}
    [failed] = content(deps, done["error_file_id"])
    assert (failed["custom_id"], failed["response"]["status_code"]) == ("bad", 429)


def test_embedding_lines(deps):
    lines = [{"custom_id": f"e{i}", "method": "POST", "url": "/v1/embeddings",
              "body": {"model": "text-embedding-3-small", "input": ["x" * (i + 1), "yy"]}} for i in range(3)]
    done = finished(deps, lines, endpoint="/v1/embeddings")
    assert (done["status"], done["model"]) == ("completed", "text-embedding-3-small")
    output = content(deps, done["output_file_id"])
    assert [[d["embedding"][0] for d in line["response"]["body"]["data"]] for line in output] == [
        [1.0, 2.0], [2.0, 2.0], [3.0, 2.0]]
    assert len([c for c in deps.ai.calls if (c[2] or {}).get("queueRequest")]) == 1
    assert [c[1]["requests"] for c in deps.ai.calls if c[2]][0] == [{"text": ["x", "yy"]}, {"text": ["xx", "yy"]},
                                                                    {"text": ["xxx", "yy"]}]


def test_responses_completions_and_moderations_lines(deps):
    cases = [("/v1/responses", {"model": "gpt-4o-mini", "input": "hi"}, lambda b: b["output"][0]["content"][0]["text"]),
             ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "hey"}, lambda b: b["choices"][0]["text"]),
             ("/v1/moderations", {"input": "fine words"}, lambda b: b["results"][0]["flagged"])]
    for endpoint, body, answer in cases:
        done = finished(deps, [{"custom_id": "1", "method": "POST", "url": endpoint, "body": body}], endpoint=endpoint)
        [line] = content(deps, done["output_file_id"])
        assert line["response"]["status_code"] == 200, line
        assert answer(line["response"]["body"]) in ("Echo: hi", "Echo: hey", False)


def test_streams_and_background_responses_are_refused_per_line(deps):
    done = finished(deps, [chat("s", "x", stream=True), chat("ok", "y")])
    [refused] = content(deps, done["error_file_id"])
    assert refused["response"]["body"] == error("Unsupported parameter: 'stream' is not supported in batch requests.",
                                                param="stream", code="unsupported_parameter")
    done = finished(deps, [{"custom_id": "b", "method": "POST", "url": "/v1/responses",
                            "body": {"model": "gpt-4o-mini", "input": "x", "background": True}}], endpoint="/v1/responses")
    [refused] = content(deps, done["error_file_id"])
    assert refused["response"]["body"]["error"]["param"] == "background"


# --- validation -----------------------------------------------------------------------------------

def test_bad_lines_fail_the_batch_naming_them(deps):
    lines = [chat("a", "one"), b"not json", b"[1, 2]", {"custom_id": "b", "method": "POST", "url": "/v1/chat/completions"},
             {**chat("c", "x"), "method": "GET"}, {**chat("d", "x"), "url": "/v1/embeddings"}, chat("a", "again"),
             {**chat("e", "x"), "body": "text"}, {**chat("", "x")}]
    done = finished(deps, lines)
    assert (done["status"], done["failed_at"], "output_file_id" in done) == ("failed", NOW, False)
    assert [(e["line"], e["code"], e["param"]) for e in done["errors"]["data"]] == [
        (2, "invalid_json_line", None), (3, "invalid_json_line", None), (4, "missing_required_parameter", "body"),
        (5, "invalid_method", "method"), (6, "invalid_url", "url"), (7, "duplicate_custom_id", "custom_id"),
        (8, "invalid_value", "body"), (9, "invalid_value", "custom_id")]
    assert done["errors"]["object"] == "list"
    assert [c for c in deps.ai.calls] == []


def test_an_empty_file_fails(deps):
    file_id = upload(deps, b"\n\n")
    response = post(deps, "/v1/batches", {"input_file_id": file_id, "endpoint": "/v1/chat/completions",
                                          "completion_window": "24h"})
    work(deps)
    done = batch(deps, response.body["id"])
    assert (done["status"], done["errors"]["data"][0]["code"]) == ("failed", "empty_file")


# --- cancel, expiry, ownership --------------------------------------------------------------------

def test_cancel_before_it_runs(deps):
    body = created(deps, [chat("a", "one"), chat("b", "two")])
    cancelling = post(deps, f"/v1/batches/{body['id']}/cancel", {}).body
    assert (cancelling["status"], cancelling["cancelling_at"]) == ("cancelling", NOW)
    work(deps)
    done = batch(deps, body["id"])
    assert (done["status"], done["cancelled_at"], "output_file_id" in done) == ("cancelled", NOW, False)
    assert deps.ai.calls == []
    again = post(deps, f"/v1/batches/{body['id']}/cancel", {})
    assert (again.status, again.body["status"]) == (200, "cancelled")


def test_a_finished_batch_cannot_be_cancelled(deps):
    done = finished(deps, [chat("a", "one")])
    response = post(deps, f"/v1/batches/{done['id']}/cancel", {})
    assert (response.status, response.body["error"]["code"]) == (400, "invalid_state")


def test_other_keys_see_no_batch(deps):
    body = created(deps, [chat("a", "one")])
    for method, path in [("GET", f"/v1/batches/{body['id']}"), ("POST", f"/v1/batches/{body['id']}/cancel")]:
        response = call(deps, method, path, {} if method == "POST" else None, headers=OTHER)
        assert (response.status, response.body) == (404, error(f"No batch found with id '{body['id']}'.",
                                                               param="batch_id"))
    assert call(deps, "GET", "/v1/batches", headers=OTHER).body["data"] == []


def test_list_pages_newest_first(deps):
    ids = [created(deps, [chat("a", "one")])["id"] for _ in range(3)]
    first = call(deps, "GET", "/v1/batches", query={"limit": "2"}).body
    assert ([b["id"] for b in first["data"]], first["has_more"]) == (ids[::-1][:2], True)
    rest = call(deps, "GET", "/v1/batches", query={"limit": "2", "after": first["last_id"]}).body
    assert ([b["id"] for b in rest["data"]], rest["has_more"]) == ([ids[0]], False)
    assert call(deps, "GET", "/v1/batches", query={"limit": "x"}).status == 400


def test_expiry_ends_the_batch_with_what_was_done(deps, monkeypatch):
    from api.batches import executor
    monkeypatch.setattr(executor, "CHUNK_LINES", 2)
    body = created(deps, [chat(f"l{i}", f"t{i}") for i in range(5)])
    real_batch = deps.db.batch

    async def batch_then_expire(statements):  # the window closes once the first chunk is written
        await real_batch(statements)
        if any(sql.startswith("UPDATE batches SET cursor") for sql, _ in statements):
            deps.now.now = NOW + 86400
    deps.db.batch = batch_then_expire
    work(deps)
    done = batch(deps, body["id"])
    assert (done["status"], done["expired_at"], done["request_counts"]) == (
        "expired", NOW + 86400, {"total": 5, "completed": 2, "failed": 0})
    assert [line["custom_id"] for line in content(deps, done["output_file_id"])] == ["l0", "l1"]
    errors = content(deps, done["error_file_id"])
    assert [(e["custom_id"], e["response"], e["error"]["code"]) for e in errors] == [
        ("l2", None, "batch_expired"), ("l3", None, "batch_expired"), ("l4", None, "batch_expired")]


def test_a_large_output_file_is_written_in_parts(deps):
    lines = [{"custom_id": f"e{i}", "method": "POST", "url": "/v1/embeddings",
              "body": {"model": "text-embedding-3-large", "input": ["x"] * 30}} for i in range(70)]
    done = finished(deps, lines, endpoint="/v1/embeddings")
    sizes = deps.blobs.uploads[-1]
    assert len(sizes) >= 2 and sizes[0] == 5 * 1024 * 1024
    data = deps.blobs.objects[f"files/{done['output_file_id']}"].data
    assert [json.loads(line)["custom_id"] for line in data.splitlines()] == [f"e{i}" for i in range(70)]
    assert call(deps, "GET", f"/v1/files/{done['output_file_id']}").body["bytes"] == len(data)
    assert [key for key in deps.blobs.objects if key.startswith("stored/")] == []  # the large lines' values


def test_too_many_lines_fail_the_batch_without_reading_on(deps, monkeypatch):
    from api.batches import executor
    monkeypatch.setattr(executor, "MAX_REQUESTS", 3)
    done = finished(deps, [chat(f"l{i}", "x") for i in range(5)])
    assert (done["status"], done["errors"]["data"][0]["code"]) == ("failed", "too_many_tasks")


# --- the key's limits -----------------------------------------------------------------------------

def limited_key(deps, **limit_columns) -> dict:
    secret = "sk-limited-0123456789"
    deps.db.conn.execute("INSERT INTO api_keys (id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                         ("key_1", "limited", auth.key_hash(secret), secret[:8], NOW))
    columns = {**limit_columns, "models": json.dumps(limit_columns["models"])} if "models" in limit_columns \
        else limit_columns
    deps.db.conn.execute(f"INSERT INTO key_limits (key_id, {', '.join(columns)}, updated_at) VALUES "
                         f"(?, {', '.join('?' * len(columns))}, ?)", ("key_1", *columns.values(), NOW))
    deps.db.conn.commit()
    return {"authorization": f"Bearer {secret}"}


def test_lines_run_under_the_keys_model_list(deps):
    headers = limited_key(deps, models=["gpt-4o-mini"])
    response = create(deps, [chat("ok", "one"), chat("no", "two", model="gpt-4o")], headers=headers)
    work(deps)
    done = batch(deps, response.body["id"], headers=headers)
    assert done["request_counts"] == {"total": 2, "completed": 1, "failed": 1}
    [refused] = content_of(deps, done["error_file_id"], headers)
    assert (refused["custom_id"], refused["response"]["status_code"], refused["response"]["body"]) == (
        "no", 403, error("Key `key_1` does not have access to model `gpt-4o`.", "model", "model_not_found"))


def test_lines_stop_running_once_the_key_is_revoked(deps):
    headers = limited_key(deps, models=["gpt-4o-mini"])
    response = create(deps, [chat("a", "one")], headers=headers)
    deps.db.conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = 'key_1'", (NOW,))
    deps.db.conn.commit()
    work(deps)
    body = json.loads(deps.db.conn.execute("SELECT body FROM batches WHERE id = ?", (response.body["id"],)).fetchone()[0])
    [line] = [json.loads(text) for text in deps.blobs.objects[f"files/{body['error_file_id']}"].data.splitlines()]
    assert (line["response"]["status_code"], line["response"]["body"]["error"]["code"]) == (401, "invalid_api_key")
    assert deps.ai.calls == []


def content_of(deps, file_id, headers) -> list:
    response = call(deps, "GET", f"/v1/files/{file_id}/content", headers=headers)
    return [json.loads(line) for line in run(response.body.read()).splitlines()]
