"""api.batches.queued: calls to models of Workers AI's async batch API wait until every line waits
or is done, then go as one queued request, polled until its results come; a refused or unanswered
batch falls back to direct calls; other models and calls with options go directly."""
import asyncio

import pytest

from api.batches import queued
from api.errors import RateLimited, UpstreamError
from fakes import ScriptedAI
from unit.support import run

LLAMA_70B, LLAMA_8B, BGE = ("@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/meta/llama-3.1-8b-instruct-fast",
                            "@cf/baai/bge-base-en-v1.5")


@pytest.fixture(autouse=True)
def instant_polls(monkeypatch):
    monkeypatch.setattr(queued, "POLL_FIRST", 0)
    monkeypatch.setattr(queued, "POLL_MAX", 0)


def lines(ai, *calls):
    """Runs one line per (model, inputs, options) side by side through a Grouped: their results."""
    async def go():
        grouped = queued.Grouped(ai, len(calls), lambda line: None)

        async def line(model, inputs, options=None):
            try:
                return await grouped.run(model, inputs, options)
            except Exception as exc:  # noqa: BLE001 - the line's outcome
                return exc
            finally:
                grouped.finished()
        return await asyncio.gather(*(line(*call) for call in calls))
    return run(go())


def done(*results) -> dict:
    return {"responses": [{"id": i, "result": r, "success": True} for i, r in enumerate(results)],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


def test_the_waiting_calls_go_as_one_queued_request():
    ai = ScriptedAI()
    for answer in ({"status": "queued", "request_id": "r1", "model": LLAMA_70B}, {"status": "queued", "request_id": "r1"},
                   {"status": "running", "request_id": "r1"},
                   done({"result": {"response": "A"}}, {"response": "B"})):
        ai.answer(answer)
    assert lines(ai, (LLAMA_70B, {"prompt": "a"}), (LLAMA_70B, {"prompt": "b"})) == [{"response": "A"},
                                                                                    {"response": "B"}]
    assert ai.calls == [(LLAMA_70B, {"requests": [{"prompt": "a"}, {"prompt": "b"}]}, {"queueRequest": True}),
                        *[(LLAMA_70B, {"request_id": "r1"}, None)] * 3]


def test_they_wait_for_the_lines_still_busy():
    ai = ScriptedAI()
    ai.answer({"response": "direct"})  # the other line's direct call comes first
    ai.answer({"status": "queued", "request_id": "r"})
    ai.answer(done({"data": [[1.0]], "shape": [1, 1]}))
    assert lines(ai, (BGE, {"text": ["x"]}), (LLAMA_8B, {"prompt": "y"})) == [{"data": [[1.0]], "shape": [1, 1]},
                                                                             {"response": "direct"}]
    assert [call[0] for call in ai.calls] == [LLAMA_8B, BGE, BGE]


def test_calls_with_options_go_directly():
    ai = ScriptedAI()
    ai.answer({"response": "direct"})
    options = {"extraHeaders": {"x-session-affinity": "k"}}
    assert lines(ai, (LLAMA_70B, {"prompt": "a"}, options)) == [{"response": "direct"}]
    assert ai.calls == [(LLAMA_70B, {"prompt": "a"}, options)]


def test_a_failed_request_fails_its_call_only():
    ai = ScriptedAI()
    ai.answer({"status": "queued", "request_id": "r"})
    ai.answer({"responses": [{"id": 0, "result": {"response": "ok"}, "success": True},
                             {"id": 1, "result": {"errors": [{"code": 3040, "message": "busy"}]}, "success": False}]})
    ok, failed = lines(ai, (LLAMA_70B, {"prompt": "a"}), (LLAMA_70B, {"prompt": "b"}))
    assert ok == {"response": "ok"} and isinstance(failed, RateLimited)


def test_a_missing_result_is_an_upstream_error():
    ai = ScriptedAI()
    ai.answer({"status": "queued", "request_id": "r"})
    ai.answer(done({"response": "only one"}))
    first, second = lines(ai, (LLAMA_70B, {"prompt": "a"}), (LLAMA_70B, {"prompt": "b"}))
    assert first == {"response": "only one"} and isinstance(second, UpstreamError)


@pytest.mark.parametrize("trouble", ["refused", "odd poll", "too slow"])
def test_a_batch_that_fails_as_a_whole_falls_back_to_direct_calls(monkeypatch, trouble):
    ai = ScriptedAI()
    if trouble == "refused":
        ai.answer(RateLimited("Workers AI error 3040"))
    else:
        ai.answer({"status": "queued", "request_id": "r"})
        ai.answer({"status": "queued", "request_id": "r"} if trouble == "too slow" else {"what": 1})
        monkeypatch.setattr(queued, "POLL_GIVE_UP", 0)
    ai.answer({"response": "a"})
    ai.answer({"response": "b"})
    assert lines(ai, (LLAMA_70B, {"prompt": "a"}), (LLAMA_70B, {"prompt": "b"})) == [{"response": "a"},
                                                                                    {"response": "b"}]
    assert ai.calls[-2:] == [(LLAMA_70B, {"prompt": "a"}, None), (LLAMA_70B, {"prompt": "b"}, None)]


def test_groups_stay_under_the_payload_and_count_limits(monkeypatch):
    monkeypatch.setattr(queued, "MAX_GROUP", 3)
    calls = [({"text": ["x" * 10]}, None) for _ in range(7)]
    assert [len(group) for group in queued._groups(calls)] == [3, 3, 1]
    monkeypatch.setattr(queued, "MAX_GROUP_BYTES", 50)
    assert [len(group) for group in queued._groups(calls)] == [2, 2, 2, 1]
