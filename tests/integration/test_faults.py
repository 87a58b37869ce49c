"""Faults injected through the stand-ins (markers in the user text) and the local environment's
`x-local-fault` header (src/cf/faults.py): each ends in a clear OpenAI error (an SSE error event and
a clean close mid-stream), a retried success, or a failed object with a reason; never a stuck
object, a duplicate result, double usage, or a traceback. (Model errors before and mid-stream:
test_chat.py and test_errors.py.)"""
import json
import time

import openai
import pytest

MODEL = "gpt-4o"
TRACEBACK = ("Traceback", "File \"", "JsException", "pyodide")


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def fault(*names: str) -> dict:
    return {"x-local-fault": ",".join(names)}


def poll(read, done, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def sse(response) -> list:
    """The data payloads of a raw SSE response; [DONE] stays a string."""
    payloads = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line[len("data: "):]
            payloads.append(data if data == "[DONE]" else json.loads(data))
    return payloads


def assert_clean_error(body: dict, code: str) -> None:
    assert set(body["error"]) == {"message", "type", "param", "code"} and body["error"]["code"] == code
    assert not any(word in body["error"]["message"] for word in TRACEBACK), body


def usage_rows(d1, request_id: str) -> list:
    return d1(f"SELECT id, prompt_tokens, completion_tokens FROM usage_events WHERE id = '{request_id}'")


# --- the model: hanging, malformed, dropped ------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True])
def test_a_model_that_hangs_times_out_with_504(client, stream):
    started = time.monotonic()
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=MODEL, messages=user("[[hang]] hi"), stream=stream,
                                       extra_headers=fault("upstream-timeout=1500"))
    assert (failed.value.status_code, failed.value.code) == (504, "upstream_timeout")
    assert failed.value.body["message"] == ("Workers AI did not answer for "
                                            "@cf/meta/llama-3.3-70b-instruct-fp8-fast within 1.5 seconds.")
    assert time.monotonic() - started < 10


def test_a_stream_that_stalls_ends_with_an_error_event_and_is_billed_once(http, d1):
    with http.stream("POST", "/v1/chat/completions", headers=fault("upstream-timeout=1500"),
                     json={"model": MODEL, "messages": user("[[hang-mid]] one two three"), "stream": True}) as response:
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]
        payloads = sse(response)
    assert [p["choices"][0]["delta"].get("content") for p in payloads[:-1]] == ["", "Echo:", " one"]
    assert_clean_error(payloads[-1], "upstream_timeout")
    assert "[DONE]" not in payloads
    rows = poll(lambda: usage_rows(d1, request_id), bool)
    assert len(rows) == 1  # what was streamed is paid for, once


@pytest.mark.parametrize("model", [MODEL, "@cf/zai-org/glm-4.7-flash"])
def test_malformed_output_is_a_502(client, model):
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=model, messages=user("[[malformed]] hi"))
    assert (failed.value.status_code, failed.value.code) == (502, "upstream_error")
    assert failed.value.body["message"] == "Workers AI returned a result without text."


@pytest.mark.parametrize("marker,message", [
    ("[[malformed]]", "Workers AI sent a stream event that is not JSON."),
    ("[[drop-mid]]", "The Workers AI stream ended before it was complete."),
])
def test_a_broken_stream_ends_with_an_error_event(http, d1, marker, message):
    with http.stream("POST", "/v1/chat/completions",
                     json={"model": MODEL, "messages": user(f"{marker} one two three"), "stream": True}) as response:
        request_id = response.headers["x-request-id"]
        payloads = sse(response)
    assert payloads[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert_clean_error(payloads[-1], "upstream_error")
    assert payloads[-1]["error"]["message"] == message
    assert "[DONE]" not in payloads
    assert len(poll(lambda: usage_rows(d1, request_id), bool)) == 1


# --- D1 and R2 -----------------------------------------------------------------------------------

def test_a_d1_failure_is_a_clean_500_and_leaves_nothing_behind(client, http, write):
    refused = http.get("/v1/files", headers=fault("d1"))
    assert refused.status_code == 500
    assert refused.json() == {"error": {"message": "The server had an error while processing your request. "
                                                   "Sorry about that!", "type": "server_error", "param": None,
                                        "code": None}}
    before = {f.id for f in client.files.list()}
    with pytest.raises(openai.InternalServerError):
        client.files.create(file=write("d1.txt", b"hello"), purpose="assistants", extra_headers=fault("d1"))
    assert {f.id for f in client.files.list()} == before


def test_an_r2_failure_on_upload_leaves_no_visible_file(client, write, d1):
    before = {f.id for f in client.files.list()}
    with pytest.raises(openai.InternalServerError) as failed:
        client.files.create(file=write("r2.txt", b"hello"), purpose="assistants", extra_headers=fault("r2"))
    assert_clean_error({"error": failed.value.body}, None)
    assert {f.id for f in client.files.list()} == before
    # R2 is down, so the object cannot be deleted either: its row stays, invisible ("uploading"),
    # as api.resources.files intends: never an object without a row, never a visible row without one.
    statuses = {r["status"] for r in d1("SELECT status FROM files WHERE filename = 'r2.txt'")}
    assert statuses <= {"uploading"}


def test_an_r2_failure_on_reading_a_file_is_a_clean_500(client, write):
    made = client.files.create(file=write("read.txt", b"hello"), purpose="assistants")
    with pytest.raises(openai.InternalServerError):
        client.files.content(made.id, extra_headers=fault("r2"))
    assert client.files.content(made.id).read() == b"hello"


def test_an_r2_failure_on_url_images_is_a_clean_500(client):
    with pytest.raises(openai.InternalServerError) as failed:
        client.images.generate(model="dall-e-2", prompt="a red square", size="256x256", response_format="url",
                               extra_headers=fault("r2"))
    assert failed.value.body["type"] == "server_error"


# --- the queue consumer --------------------------------------------------------------------------

def test_a_consumer_that_throws_is_retried_and_counts_usage_once(client, d1):
    raw = client.chat.completions.with_raw_response.create(
        model="@cf/qwen/qwen2.5-coder-32b-instruct", messages=user("count me once"),
        extra_headers=fault("consumer-throw"))
    request_id = raw.headers["x-request-id"]
    rows = poll(lambda: usage_rows(d1, request_id), bool)
    usage = raw.parse().usage
    assert rows == [{"id": request_id, "prompt_tokens": usage.prompt_tokens,
                     "completion_tokens": usage.completion_tokens}]
    time.sleep(2)  # a second delivery would have landed by now
    assert len(usage_rows(d1, request_id)) == 1


@pytest.mark.parametrize("faults,status,error", [
    (("consumer-r2",), "completed", None),  # R2 fails on the first delivery: retried, then done
    (("consumer-r2-always",), "failed", "server_error"),  # on every delivery: failed, with a reason
])
def test_ingestion_meets_r2_failures_with_a_retry_or_a_failed_file(client, write, faults, status, error):
    store = client.vector_stores.create(name="faults")
    made = client.files.create(file=write("doc.txt", b"The cat sat on the mat."), purpose="assistants")
    client.vector_stores.files.create(vector_store_id=store.id, file_id=made.id, extra_headers=fault(*faults))
    attached = poll(lambda: client.vector_stores.files.retrieve(made.id, vector_store_id=store.id),
                    lambda f: f.status != "in_progress", timeout=60)
    assert attached.status == status
    assert (attached.last_error.code if attached.last_error else None) == error
    assert client.vector_stores.retrieve(store.id).status == "completed"  # nothing left in progress
