"""What a run's settings do to the model calls: reasoning (its effort passed, its text not shown),
a forced tool, response formats, images from the thread, vector stores set for one run, the
bound on how often a run may wait for tool outputs, and the key's model list."""
import base64
import json

from api import app, auth
from api.assistants import execute
from fakes import MemoryBinary
from pngs import png
from unit.assistants_support import (WEATHER, api, assistant, create_run, deliver, listed, ok, retrieve,
                                     second_key_and_deferred_work, thread)
from unit.support import AUTH, choices_result, native_tools, oai_chunks, oai_stream, request, run

assert second_key_and_deferred_work  # the autouse fixture
GLM, GEMMA = "@cf/zai-org/glm-4.7-flash", "@cf/google/gemma-4-26b-a4b-it"
LIMITED = "sk-limited-0123456789"


def inputs(deps) -> dict:
    return deps.ai.calls[-1][1]


def test_reasoning_effort_reaches_the_model_and_its_reasoning_stays_hidden(deps):
    body = thread(deps, "Why?")
    made = create_run(deps, body["id"], assistant(deps, model=GLM, reasoning_effort="low")["id"])
    deps.ai.answer(oai_chunks([{"reasoning_content": "Hm."}, {"content": "Because."}], completion=4, model=GLM))
    deliver(deps)
    assert inputs(deps)["reasoning_effort"] == "low"
    assert retrieve(deps, body["id"], made["id"])["status"] == "completed"
    [message] = listed(deps, f"/v1/threads/{body['id']}/messages", run_id=made["id"])
    assert message["content"][0]["text"]["value"] == "Because."
    assert [s["type"] for s in listed(deps, f"/v1/threads/{body['id']}/runs/{made['id']}/steps")] == [
        "message_creation"]


def test_a_named_tool_choice_forces_the_call(deps):
    body = thread(deps, "Anything")
    other = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
    granite = "@cf/ibm-granite/granite-4.0-h-micro"  # takes a forced tool as tools (llama-3.3: as JSON mode)
    made = create_run(deps, body["id"], assistant(deps, model=granite, tools=[WEATHER, other])["id"],
                      tool_choice={"type": "function", "function": {"name": "get_weather"}})
    assert made["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    deps.ai.answer(native_tools([{"name": "get_weather", "arguments": {"city": "Oslo"}}]))
    deliver(deps)
    assert [t["function"]["name"] for t in inputs(deps)["tools"]] == ["get_weather"]
    waiting = retrieve(deps, body["id"], made["id"])
    assert waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_response_formats_reach_the_model(deps):
    body = thread(deps, "A JSON object please")
    helper = assistant(deps, model=GLM, response_format={"type": "json_object"})
    made = create_run(deps, body["id"], helper["id"])
    assert made["response_format"] == {"type": "json_object"}
    deps.ai.answer(choices_result('{"ok": true}', model=GLM))
    deliver(deps)
    assert inputs(deps)["response_format"] == {"type": "json_object"}
    [message] = listed(deps, f"/v1/threads/{body['id']}/messages", run_id=made["id"])
    assert message["content"][0]["text"]["value"] == '{"ok": true}'


def test_images_of_the_thread_reach_a_vision_model(deps):
    image = png(2, 2)
    form = {"file": [MemoryBinary(image, "image/png", "dot.png")], "purpose": ["vision"]}
    file_id = run(app.handle(request("POST", "/v1/files", headers={**AUTH, "content-type": "multipart/form-data"},
                                     form=form), deps)).body["id"]
    body = thread(deps, messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, {"type": "image_file", "image_file": {"file_id": file_id}}]}])
    made = create_run(deps, body["id"], assistant(deps, model=GEMMA, instructions=None)["id"])
    deps.ai.answer(oai_stream(["A dot."], model=GEMMA))
    deliver(deps)
    assert retrieve(deps, body["id"], made["id"])["status"] == "completed"
    [message] = inputs(deps)["messages"]
    url = next(part["image_url"]["url"] for part in message["content"] if part["type"] == "image_url")
    assert base64.b64decode(url.split(",", 1)[1]) == image


def test_a_run_of_a_thread_made_with_it_may_search_other_stores(deps):
    store = ok(api(deps, "POST", "/v1/vector_stores", {"name": "manuals"}))
    searcher = assistant(deps, tools=[{"type": "file_search"}])
    made = ok(api(deps, "POST", "/v1/threads/runs", {
        "assistant_id": searcher["id"], "thread": {"messages": [{"role": "user", "content": "Search"}]},
        "tool_resources": {"file_search": {"vector_store_ids": [store["id"]]}}}))
    deps.ai.answer(native_tools([], response="Nothing to find."))
    deliver(deps)
    assert [t["function"]["name"] for t in inputs(deps)["tools"]] == ["file_search"]
    plain = ok(api(deps, "POST", "/v1/threads/runs", {"assistant_id": searcher["id"]}))
    deps.ai.answer(native_tools([], response="Hi."))
    deliver(deps)
    assert "tools" not in inputs(deps) and retrieve(deps, plain["thread_id"], plain["id"])["status"] == "completed"
    assert made["status"] == "queued"


def test_a_run_may_wait_for_tool_outputs_only_so_often(deps, monkeypatch):
    monkeypatch.setattr(execute, "MAX_ROUNDS", 1)
    body = thread(deps, "Weather?")
    made = create_run(deps, body["id"], assistant(deps, tools=[WEATHER])["id"])
    deps.ai.answer(native_tools([{"name": "get_weather", "arguments": {"city": "Oslo"}}]))
    deliver(deps)
    failed = retrieve(deps, body["id"], made["id"])
    assert (failed["status"], failed["last_error"]["code"]) == ("failed", "invalid_prompt")
    assert "1 times" in failed["last_error"]["message"]


def test_a_keys_model_list_and_budgets_apply_to_runs(deps):
    deps.db.conn.execute("INSERT INTO api_keys (id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                         ("key_1", "limited", auth.key_hash(LIMITED), LIMITED[:8], 1_700_000_000))
    deps.db.conn.execute("INSERT INTO key_limits (key_id, models, updated_at) VALUES (?, ?, ?)",
                         ("key_1", json.dumps(["gpt-4o-mini"]), 1_700_000_000))
    deps.db.conn.commit()
    headers = {"authorization": f"Bearer {LIMITED}", "openai-beta": "assistants=v2"}
    helper = ok(api(deps, "POST", "/v1/assistants", {"model": "gpt-4o"}, headers=headers))
    body = ok(api(deps, "POST", "/v1/threads", {"messages": [{"role": "user", "content": "Hi"}]}, headers=headers))
    for path, fields in [(f"/v1/threads/{body['id']}/runs", {}), ("/v1/threads/runs", {}),
                         (f"/v1/threads/{body['id']}/runs", {"model": "gpt-4"})]:
        refused = api(deps, "POST", path, {"assistant_id": helper["id"], **fields}, headers=headers)
        assert (refused.status, refused.body["error"]["code"]) == (403, "model_not_found"), path
    assert ok(api(deps, "POST", f"/v1/threads/{body['id']}/runs", {"assistant_id": helper["id"],
                                                                 "model": "gpt-4o-mini"}, headers=headers))
    assert deps.runs.sent and deps.ai.calls == []
