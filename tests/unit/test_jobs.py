"""api.jobs.consume: usage events → one idempotent D1 batch; ack/retry decisions."""
import pytest

from api import jobs
from api.ports import QueueMessage
from unit.support import drain, native, post, run

DAY = 1_767_225_600  # 2026-01-01T00:00:00Z


def usage_body(request_id, key_id="key_1", model="@cf/meta/llama-3.3-70b-instruct-fp8-fast", prompt=10,
               completion=5, created_at=DAY):
    return {"kind": "usage", "id": request_id, "key_id": key_id, "model": model,
            "endpoint": "/v1/chat/completions", "prompt_tokens": prompt, "completion_tokens": completion,
            "created_at": created_at, "duration_ms": 120}


@pytest.fixture
def batches(deps):
    """Counts D1 batch calls on the SQLite stand-in."""
    calls = []
    real = deps.db.batch

    async def batch(statements):
        calls.append(len(statements))
        await real(statements)
    deps.db.batch = batch
    return calls


def consume(deps, bodies):
    return run(jobs.consume([QueueMessage(f"m{i}", body) for i, body in enumerate(bodies)], deps))


def daily(deps):
    return run(deps.db.query("SELECT key_id, model, day, requests, prompt_tokens, completion_tokens "
                             "FROM usage_daily ORDER BY key_id, model, day"))


def row(key_id, model, day, requests, prompt, completion):
    return {"key_id": key_id, "model": model, "day": day, "requests": requests, "prompt_tokens": prompt,
            "completion_tokens": completion}


BODIES = [usage_body("req_1"), usage_body("req_2", prompt=7, completion=3),
          usage_body("req_3", model="@cf/baai/bge-m3", prompt=4, completion=0),
          usage_body("req_4", created_at=DAY + 86_400, prompt=1, completion=1),
          usage_body("req_5", key_id="key_2", prompt=2, completion=2)]
TOTALS = [row("key_1", "@cf/baai/bge-m3", "2026-01-01", 1, 4, 0),
          row("key_1", "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "2026-01-01", 2, 17, 8),
          row("key_1", "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "2026-01-02", 1, 1, 1),
          row("key_2", "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "2026-01-01", 1, 2, 2)]


def test_usage_events_are_written_in_one_batch_and_acked(deps, batches):
    assert consume(deps, BODIES) == {f"m{i}": "ack" for i in range(5)}
    assert batches == [5]
    assert daily(deps) == TOTALS
    assert run(deps.db.query("SELECT COUNT(*) AS n FROM usage_events")) == [{"n": 5}]


def test_redelivery_does_not_double_count(deps):
    consume(deps, BODIES)
    assert consume(deps, BODIES) == {f"m{i}": "ack" for i in range(5)}
    assert consume(deps, BODIES[:2] + BODIES[:2]) == {f"m{i}": "ack" for i in range(4)}
    assert daily(deps) == TOTALS


def test_d1_failure_retries_the_whole_batch(deps):
    deps.db.fail_next = True
    assert consume(deps, BODIES + [{"kind": "mystery"}]) == {f"m{i}": "retry" for i in range(6)}
    assert daily(deps) == []
    assert consume(deps, BODIES) == {f"m{i}": "ack" for i in range(5)}  # the retry lands once
    assert daily(deps) == TOTALS


@pytest.mark.parametrize("body", [
    {"kind": "mystery", "id": "x"}, {}, "usage", None, ["usage"],
    {k: v for k, v in usage_body("bad").items() if k != "model"},
    usage_body("bad", prompt="many"), usage_body("bad", completion=None), usage_body("bad", created_at="today"),
    {**usage_body("bad"), "key_id": None}, {**usage_body("bad"), "model": 7},
], ids=["unknown-kind", "empty", "string", "null", "list", "missing-field", "text-tokens", "null-tokens",
        "text-time", "null-key", "number-model"])
def test_unknown_and_malformed_messages_are_retried(deps, batches, body):
    assert consume(deps, [body, usage_body("req_ok")]) == {"m0": "retry", "m1": "ack"}
    assert batches == [1]
    assert [r["requests"] for r in daily(deps)] == [1]


def test_nothing_to_write_means_no_batch(deps, batches):
    assert consume(deps, [{"kind": "mystery"}]) == {"m0": "retry"}
    assert consume(deps, []) == {}
    assert batches == []


def test_a_handlers_usage_event_is_consumable(deps):
    deps.ai.answer(native("Hello!", 12, 3))
    post(deps, "/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    run(drain(deps))
    assert consume(deps, deps.jobs.sent) == {"m0": "ack"}
    assert daily(deps) == [row("local-dev", "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "2026-01-01", 1, 12, 3)]
