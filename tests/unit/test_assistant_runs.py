"""Runs of threads through api.app and the run engine: function calling to requires_action and
back, the context the model gets, settings and overrides, streamed events in OpenAI's order,
file_search steps, cancel at every stage, one active run per thread, expiry on a clock, and
consumers that die."""
import json

import pytest

from api import app, jobs
from api.assistants import objects, store
from api.errors import workers_ai_error
from api.runs import lease as runs
from unit.assistants_support import (BETA, OTHER, WEATHER, api, assistant, create_run, deliver, listed, ok, retrieve,
                                     second_key_and_deferred_work, thread)
from unit.support import native, native_stream, native_tools, request, run

assert second_key_and_deferred_work  # the autouse fixture
LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def weather_call(city="Paris"):
    return native_tools([{"name": "get_weather", "arguments": {"city": city}}], prompt=10, completion=8)


def waiting_run(deps, **fields):
    """A run that called get_weather and waits for its output: (thread, run)."""
    body = thread(deps, "Weather in Paris?")
    made = create_run(deps, body["id"], assistant(deps, tools=[WEATHER])["id"], **fields)
    deps.ai.answer(weather_call())
    deliver(deps)
    return body, retrieve(deps, body["id"], made["id"])


def submit(deps, body, made, outputs=None, **fields):
    calls = made["required_action"]["submit_tool_outputs"]["tool_calls"]
    outputs = outputs or [{"tool_call_id": c["id"], "output": "sunny"} for c in calls]
    return api(deps, "POST", f"/v1/threads/{body['id']}/runs/{made['id']}/submit_tool_outputs",
               {"tool_outputs": outputs, **fields})


def test_a_function_calling_run_waits_for_outputs_and_completes(deps):
    body, made = waiting_run(deps)
    assert (made["status"], made["started_at"], made["expires_at"], made["usage"]) == (
        "requires_action", 1767225600, 1767225600 + objects.EXPIRY_SECONDS, None)
    [call] = made["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert (call["type"], call["function"]) == ("function", {"name": "get_weather", "arguments": '{"city":"Paris"}'})
    [step] = listed(deps, f"/v1/threads/{body['id']}/runs/{made['id']}/steps")
    assert (step["type"], step["status"], step["usage"]) == ("tool_calls", "in_progress", None)
    queued = ok(submit(deps, body, made))
    assert (queued["status"], queued["required_action"]) == ("queued", None)
    deps.ai.answer(native_stream(["It is ", "sunny."], 20, 3))
    deliver(deps)
    done = retrieve(deps, body["id"], made["id"])
    assert (done["status"], done["completed_at"], done["expires_at"], done["usage"]) == (
        "completed", 1767225600, None, {"prompt_tokens": 30, "completion_tokens": 11, "total_tokens": 41})
    assert deps.ai.calls[-1][1]["messages"] == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": call["id"], "type": "function", "function": {
            "name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "content": "sunny", "tool_call_id": call["id"]}]
    messages = listed(deps, f"/v1/threads/{body['id']}/messages", order="asc")
    assert [(m["role"], m["content"][0]["text"]["value"], m["run_id"]) for m in messages] == [
        ("user", "Weather in Paris?", None), ("assistant", "It is sunny.", made["id"])]
    steps = listed(deps, f"/v1/threads/{body['id']}/runs/{made['id']}/steps", order="asc")
    assert [(s["type"], s["status"], s["usage"]["total_tokens"]) for s in steps] == [
        ("tool_calls", "completed", 18), ("message_creation", "completed", 23)]
    assert steps[0]["step_details"]["tool_calls"][0]["function"]["output"] == "sunny"
    assert steps[1]["step_details"]["message_creation"]["message_id"] == messages[1]["id"]
    assert deliver(deps) == {}  # nothing more queued


def test_tool_outputs_must_answer_every_call(deps):
    body, made = waiting_run(deps)
    wrong = submit(deps, body, made, [{"tool_call_id": "call_x", "output": "?"}])
    assert (wrong.status, wrong.body["error"]["param"]) == (400, "tool_outputs")
    ok(submit(deps, body, made))
    again = submit(deps, body, made)
    assert again.status == 400 and 'status "queued"' in again.body["error"]["message"]


def test_run_settings_override_the_assistants(deps):
    helper = assistant(deps, temperature=0.3, tools=[WEATHER])
    body = thread(deps, "Hi")
    made = create_run(deps, body["id"], helper["id"], instructions="Be loud.", additional_instructions="Use caps.",
                      additional_messages=[{"role": "user", "content": "And hello"}], temperature=0.7,
                      tools=[], metadata={"k": "v"}, max_completion_tokens=300,
                      truncation_strategy={"type": "last_messages", "last_messages": 1})
    assert (made["instructions"], made["temperature"], made["tools"], made["metadata"], made["truncation_strategy"]) == (
        "Be loud.\n\nUse caps.", 0.7, [], {"k": "v"}, {"type": "last_messages", "last_messages": 1})
    deps.ai.answer(native_stream(["HELLO"], 9, 1))
    deliver(deps)
    _, inputs, _ = deps.ai.calls[-1]
    assert inputs["messages"] == [{"role": "system", "content": "Be loud.\n\nUse caps."},
                                  {"role": "user", "content": "And hello"}]
    assert (inputs["temperature"], inputs["max_tokens"], "tools" in inputs) == (0.7, 300, False)


@pytest.mark.parametrize("fields,param", [
    ({"tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
    ({"tool_choice": {"type": "file_search"}}, "tool_choice"),
    ({"tool_choice": {"type": "code_interpreter"}}, "tool_choice.type"),
    ({"tools": [{"type": "code_interpreter"}]}, "tools[0].type"),
    ({"max_completion_tokens": 100}, "max_completion_tokens"),
    ({"truncation_strategy": {"type": "last_messages"}}, "truncation_strategy"),
    ({"model": "gpt-4o", "reasoning_effort": "low"}, "reasoning_effort"),
    ({"additional_messages": [{"role": "user", "content": []}]}, "additional_messages[0].content"),
])
def test_bad_runs_are_refused_before_anything_is_written(deps, fields, param):
    body = thread(deps, "Hi")
    response = api(deps, "POST", f"/v1/threads/{body['id']}/runs",
                   {"assistant_id": assistant(deps, tools=[WEATHER])["id"], **fields})
    assert (response.status, response.body["error"]["param"]) == (400, param), response.body
    assert deps.db.conn.execute("SELECT COUNT(*) FROM thread_runs").fetchone()[0] == 0
    assert deps.runs.sent == []


def test_an_unknown_assistant_is_404(deps):
    body = thread(deps, "Hi")
    response = api(deps, "POST", f"/v1/threads/{body['id']}/runs", {"assistant_id": "asst_nope"})
    assert (response.status, response.body["error"]["param"]) == (404, "assistant_id")


def test_one_active_run_per_thread(deps):
    body, made = waiting_run(deps)
    again = api(deps, "POST", f"/v1/threads/{body['id']}/runs", {"assistant_id": made["assistant_id"]})
    assert again.status == 400 and again.body["error"]["message"] == (
        f"Thread {body['id']} already has an active run {made['id']}.")
    message = api(deps, "POST", f"/v1/threads/{body['id']}/messages", {"role": "user", "content": "x"})
    assert message.status == 400 and made["id"] in message.body["error"]["message"]
    ok(api(deps, "POST", f"/v1/threads/{body['id']}/runs/{made['id']}/cancel"))
    ok(api(deps, "POST", f"/v1/threads/{body['id']}/messages", {"role": "user", "content": "x"}))
    assert create_run(deps, body["id"], made["assistant_id"])["status"] == "queued"


def test_a_run_created_in_a_race_is_refused_by_the_index(deps, monkeypatch):
    body, made = waiting_run(deps)
    real, looks = store.active_run, []

    async def first_look_misses(deps, thread_id):  # as for a request racing the one that made the run
        looks.append(thread_id)
        return None if len(looks) == 1 else await real(deps, thread_id)
    monkeypatch.setattr(store, "active_run", first_look_misses)
    response = api(deps, "POST", f"/v1/threads/{body['id']}/runs", {"assistant_id": made["assistant_id"]})
    assert response.status == 400 and made["id"] in response.body["error"]["message"]
    assert deps.db.conn.execute("SELECT COUNT(*) FROM thread_runs").fetchone()[0] == 1 and len(looks) == 2


def test_cancel_a_queued_run_before_it_starts(deps):
    body = thread(deps, "Hi")
    made = create_run(deps, body["id"], assistant(deps)["id"])
    cancelled = ok(api(deps, "POST", f"/v1/threads/{body['id']}/runs/{made['id']}/cancel"))
    assert (cancelled["status"], cancelled["cancelled_at"]) == ("cancelled", 1767225600)
    assert deliver(deps) == {"m0": "ack"} and deps.ai.calls == []
    again = api(deps, "POST", f"/v1/threads/{body['id']}/runs/{made['id']}/cancel")
    assert again.status == 400 and "cancelled" in again.body["error"]["message"]


def test_cancel_a_run_waiting_for_outputs(deps):
    body, made = waiting_run(deps)
    cancelled = ok(api(deps, "POST", f"/v1/threads/{body['id']}/runs/{made['id']}/cancel"))
    assert (cancelled["status"], cancelled["required_action"]) == ("cancelled", None)
    [step] = listed(deps, f"/v1/threads/{body['id']}/runs/{made['id']}/steps")
    assert (step["status"], step["cancelled_at"]) == ("cancelled", 1767225600)


def test_cancel_is_honoured_while_the_consumer_generates(deps):
    body = thread(deps, "Talk")
    made = create_run(deps, body["id"], assistant(deps)["id"])
    deps.ai.answer(native_stream([f"w{i} " for i in range(40)], 4, 40))
    clock, real_query, renewals = deps.now, deps.db.query, []

    def ticking():
        clock.now += 0.05
        return clock.now
    deps.now = ticking

    async def query(sql, params=()):
        if sql.startswith("UPDATE runs SET lease_until"):
            renewals.append(sql)
            if len(renewals) == 1:  # the client cancels while the consumer streams
                response = await app.handle(request("POST", f"/v1/threads/{body['id']}/runs/{made['id']}/cancel",
                                                    headers=BETA), deps)
                assert response.body["status"] == "cancelling"
        return await real_query(sql, params)
    deps.db.query = query
    assert deliver(deps) == {"m0": "ack"}
    deps.db.query = real_query
    done = retrieve(deps, body["id"], made["id"])
    assert done["status"] == "cancelled" and len(renewals) == 1  # stopped at once, not at the end
    [message] = listed(deps, f"/v1/threads/{body['id']}/messages", run_id=made["id"])
    assert (message["status"], message["incomplete_details"]) == ("incomplete", {"reason": "run_cancelled"})
    [step] = listed(deps, f"/v1/threads/{body['id']}/runs/{made['id']}/steps")
    assert step["status"] == "cancelled"


def test_a_run_waiting_too_long_expires_on_read_and_in_the_sweep(deps):
    body, made = waiting_run(deps)
    deps.now.now += objects.EXPIRY_SECONDS + 1
    expired = retrieve(deps, body["id"], made["id"])
    assert (expired["status"], expired["required_action"]) == ("expired", None)
    [step] = listed(deps, f"/v1/threads/{body['id']}/runs/{made['id']}/steps")
    assert (step["status"], step["expired_at"]) == ("expired", int(deps.now.now))
    assert submit(deps, body, made).status == 400
    other, waiting = waiting_run(deps)
    deps.now.now += objects.EXPIRY_SECONDS - 1
    run(jobs.sweep(deps))
    assert retrieve(deps, other["id"], waiting["id"])["status"] == "requires_action"
    deps.now.now += 2
    run(jobs.sweep(deps))
    row = deps.db.conn.execute("SELECT status FROM thread_runs WHERE id = ?", (waiting["id"],)).fetchone()
    assert row[0] == "expired"  # the sweep, not a read


def test_a_model_failure_fails_the_run_with_last_error(deps):
    body = thread(deps, "Hi")
    made = create_run(deps, body["id"], assistant(deps)["id"])
    deps.ai.answer(workers_ai_error(3040, "out of capacity", LLAMA))
    assert deliver(deps) == {"m0": "ack"}
    failed = retrieve(deps, body["id"], made["id"])
    assert (failed["status"], failed["failed_at"], failed["last_error"]["code"]) == (
        "failed", 1767225600, "rate_limit_exceeded")


def test_a_dead_consumers_run_is_retried_and_the_last_attempt_fails(deps):
    body = thread(deps, "Hi")
    made = create_run(deps, body["id"], assistant(deps)["id"])
    assert run(runs.claim(deps, made["id"])).attempt == 1  # a consumer claims it and dies
    deps.now.now += runs.LEASE_SECONDS + 1
    deps.ai.answer(native_stream(["again"], 4, 1))
    assert deliver(deps) == {"m0": "ack"}
    assert retrieve(deps, body["id"], made["id"])["status"] == "completed"
    assert len(listed(deps, f"/v1/threads/{body['id']}/messages", run_id=made["id"])) == 1
    second = create_run(deps, body["id"], made["assistant_id"])
    deps.db.conn.execute("UPDATE runs SET state = 'running', attempt = ?, lease_until = 0 WHERE id = ?",
                         (runs.MAX_ATTEMPTS, second["id"]))
    deps.db.conn.commit()
    run(jobs.sweep(deps))
    failed = retrieve(deps, body["id"], second["id"])
    assert (failed["status"], failed["last_error"]["code"]) == ("failed", "server_error")


def test_metadata_changed_while_the_run_goes_on_is_kept(deps):
    body = thread(deps, "Hi")
    made = create_run(deps, body["id"], assistant(deps)["id"], metadata={"a": "1"})
    ok(api(deps, "POST", f"/v1/threads/{body['id']}/runs/{made['id']}", {"metadata": {"a": "2"}}))
    deps.ai.answer(native_stream(["ok"], 4, 1))
    deliver(deps)
    done = retrieve(deps, body["id"], made["id"])
    assert (done["status"], done["metadata"]) == ("completed", {"a": "2"})
    assert [r["metadata"] for r in listed(deps, f"/v1/threads/{body['id']}/runs")] == [{"a": "2"}]


def test_max_completion_tokens_spans_the_runs_model_calls(deps):
    body, made = waiting_run(deps, max_completion_tokens=260)
    ok(submit(deps, body, made))
    deps.ai.answer(native("a b c", 20, 252))
    deliver(deps)
    assert deps.ai.calls[-1][1]["max_tokens"] == 252  # 260 less the 8 of the call
    done = retrieve(deps, body["id"], made["id"])
    assert (done["status"], done["incomplete_details"]) == ("incomplete", {"reason": "max_completion_tokens"})
    [message] = listed(deps, f"/v1/threads/{body['id']}/messages", run_id=made["id"])
    assert (message["status"], message["incomplete_details"]) == ("incomplete", {"reason": "max_tokens"})


def test_max_prompt_tokens_truncates_then_ends_incomplete(deps):
    body = thread(deps, "old " * 300, "new question")
    helper = assistant(deps, instructions=None)
    made = create_run(deps, body["id"], helper["id"], max_prompt_tokens=256)
    deps.ai.answer(native_stream(["ok"], 4, 1))
    deliver(deps)
    assert retrieve(deps, body["id"], made["id"])["status"] == "completed"
    assert deps.ai.calls[-1][1]["messages"] == [{"role": "user", "content": "new question"}]
    made = create_run(deps, body["id"], helper["id"], max_prompt_tokens=256,
                      additional_messages=[{"role": "user", "content": "word " * 300}])
    deliver(deps)
    done = retrieve(deps, body["id"], made["id"])
    assert (done["status"], done["incomplete_details"]) == ("incomplete", {"reason": "max_prompt_tokens"})


def test_other_keys_get_404_on_runs_and_steps(deps):
    body, made = waiting_run(deps)
    base = f"/v1/threads/{body['id']}/runs/{made['id']}"
    for method, path, data in [("GET", base, None), ("POST", base, {}), ("POST", base + "/cancel", {}),
                               ("POST", base + "/submit_tool_outputs", {"tool_outputs": [
                                   {"tool_call_id": "x", "output": "y"}]}),
                               ("GET", base + "/steps", None), ("GET", base + "/steps/step_1", None)]:
        assert api(deps, method, path, data, headers=OTHER).status == 404, path
    assert json.dumps(retrieve(deps, body["id"], made["id"]))


def test_a_run_claimed_while_it_is_cancelled_is_stopped_by_its_consumer(deps, monkeypatch):
    body = thread(deps, "Hi")
    made = create_run(deps, body["id"], assistant(deps)["id"])
    looks = []

    async def stale_look(deps, run_id):  # the cancel reads "queued"; a consumer claims the run right after
        looks.append(run_id)
        if len(looks) == 1:
            await runs.claim(deps, run_id)
            return False
        return await real_held(deps, run_id)
    real_held = runs.held
    monkeypatch.setattr(runs, "held", stale_look)
    cancelling = ok(api(deps, "POST", f"/v1/threads/{body['id']}/runs/{made['id']}/cancel"))
    assert (cancelling["status"], len(looks)) == ("cancelling", 2)
    row = deps.db.conn.execute("SELECT state, cancel_requested FROM runs WHERE id = ?", (made["id"],)).fetchone()
    assert tuple(row) == ("running", 1)
