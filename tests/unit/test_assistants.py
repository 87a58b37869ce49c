"""/v1/assistants and /v1/threads with their messages through api.app: objects with their
defaults, checks against the model, pagination, attachments made searchable in the thread's own
vector store, the v2 header, and ownership between keys."""
import pytest

from unit.assistants_support import (BETA, OTHER, WEATHER, api, assistant, ok, second_key_and_deferred_work,
                                     thread)
from unit.stores_support import upload
from unit.support import AUTH, error

assert second_key_and_deferred_work  # the autouse fixture


def test_an_assistant_with_its_defaults(deps):
    body = assistant(deps, name="Helper", tools=[WEATHER, {"type": "file_search"}], metadata={"team": "a"})
    assert body == {
        "id": "asst_0002", "object": "assistant", "created_at": 1767225600, "name": "Helper", "description": None,
        "model": "gpt-4o", "instructions": "Be brief.",
        "tools": [WEATHER, {"type": "file_search", "file_search": {"ranking_options": {"ranker": "auto",
                                                                                      "score_threshold": 0.0}}}],
        "tool_resources": {}, "metadata": {"team": "a"}, "temperature": 1.0, "top_p": 1.0,
        "response_format": "auto", "reasoning_effort": None}
    assert ok(api(deps, "GET", f"/v1/assistants/{body['id']}")) == body


def test_the_v2_header_is_required(deps):
    response = api(deps, "POST", "/v1/assistants", {"model": "gpt-4o"}, headers=AUTH)
    assert response.status == 400 and response.body["error"]["code"] == "invalid_beta"
    v1 = api(deps, "GET", "/v1/threads/thread_1", headers={**AUTH, "openai-beta": "assistants=v1"})
    assert v1.status == 400 and "assistants=v2" in v1.body["error"]["message"]


@pytest.mark.parametrize("fields,status,param", [
    ({"tools": [{"type": "code_interpreter"}]}, 400, "tools[0].type"),
    ({"tools": [{"type": "retrieval"}]}, 400, "tools[0].type"),
    ({"tools": [WEATHER, WEATHER]}, 400, "tools[1].function.name"),
    ({"tools": [{"type": "file_search"}, {"type": "file_search"}]}, 400, "tools[1]"),
    ({"tools": [{"type": "function", "function": {"name": "bad name"}}]}, 400, "tools[0].function.name"),
    ({"tool_resources": {"code_interpreter": {"file_ids": ["file-1"]}}}, 400, "tool_resources.code_interpreter"),
    ({"tool_resources": {"file_search": {"vector_store_ids": ["vs_nope"]}}}, 404,
     "tool_resources.file_search.vector_store_ids[0]"),
    ({"tool_resources": {"file_search": {"vector_stores": [{"file_ids": ["file-nope"]}]}}}, 404,
     "tool_resources.file_search.vector_stores[0].file_ids"),
    ({"model": "no-such-model"}, 404, "model"),
    ({"temperature": "1"}, 400, "temperature"),
    ({"temperature": True}, 400, "temperature"),
    ({"metadata": {"k": 1}}, 400, "metadata.k"),
    ({"name": "n" * 257}, 400, "name"),
    ({"reasoning_effort": "high"}, 400, "reasoning_effort"),  # llama-3.3 does not reason
    ({"response_format": {"type": "json_schema"}}, 400, "response_format.json_schema"),
])
def test_what_cannot_be_served_is_refused_by_name(deps, fields, status, param):
    response = api(deps, "POST", "/v1/assistants", {"model": "gpt-4o", **fields})
    assert (response.status, response.body["error"]["param"]) == (status, param), response.body


def test_integer_sampling_values_are_numbers(deps):
    assert assistant(deps, temperature=0, top_p=1)["temperature"] == 0


def test_tool_resources_from_files_make_a_vector_store(deps):
    file_id = upload(deps, b"Rockets burn kerosene.", headers=AUTH)
    body = assistant(deps, tools=[{"type": "file_search"}],
                     tool_resources={"file_search": {"vector_stores": [{"file_ids": [file_id]}]}})
    [store_id] = body["tool_resources"]["file_search"]["vector_store_ids"]
    files = ok(api(deps, "GET", f"/v1/vector_stores/{store_id}/files"))["data"]
    assert [(f["id"], f["status"]) for f in files] == [(file_id, "in_progress")]


def test_modify_changes_what_is_given_and_null_clears(deps):
    body = assistant(deps, name="A", description="d", temperature=0.5)
    changed = ok(api(deps, "POST", f"/v1/assistants/{body['id']}", {"name": None, "model": None, "top_p": 0.5}))
    assert (changed["name"], changed["description"], changed["model"], changed["temperature"], changed["top_p"]) == (
        None, "d", "gpt-4o", 0.5, 0.5)
    assert ok(api(deps, "GET", f"/v1/assistants/{body['id']}")) == changed


def test_list_pages_both_ways(deps):
    ids = [assistant(deps, name=str(i))["id"] for i in range(5)]
    page = ok(api(deps, "GET", "/v1/assistants", limit=2))
    assert ([a["id"] for a in page["data"]], page["has_more"]) == (ids[::-1][:2], True)
    after = ok(api(deps, "GET", "/v1/assistants", limit=2, order="asc", after=ids[1]))
    assert [a["id"] for a in after["data"]] == ids[2:4]
    before = ok(api(deps, "GET", "/v1/assistants", order="asc", before=ids[3]))
    assert ([a["id"] for a in before["data"]], before["first_id"], before["last_id"]) == (ids[:3], ids[0], ids[2])
    assert ok(api(deps, "GET", "/v1/assistants", headers=OTHER))["data"] == []


def test_delete(deps):
    body = assistant(deps)
    assert ok(api(deps, "DELETE", f"/v1/assistants/{body['id']}")) == {
        "id": body["id"], "object": "assistant.deleted", "deleted": True}
    assert api(deps, "GET", f"/v1/assistants/{body['id']}").body == error(
        f"No assistant found with id '{body['id']}'.")


def test_a_thread_with_its_messages(deps):
    body = thread(deps, "Hello", "Again", metadata={"topic": "x"})
    assert body == {"id": "thread_0002", "object": "thread", "created_at": 1767225600, "tool_resources": {},
                    "metadata": {"topic": "x"}}
    messages = ok(api(deps, "GET", f"/v1/threads/{body['id']}/messages", order="asc"))
    assert [m["content"][0]["text"]["value"] for m in messages["data"]] == ["Hello", "Again"]
    assert messages["data"][0] == {
        "id": "msg_0003", "object": "thread.message", "created_at": 1767225600, "thread_id": body["id"],
        "status": "completed", "incomplete_details": None, "completed_at": None, "incomplete_at": None,
        "role": "user", "content": [{"type": "text", "text": {"value": "Hello", "annotations": []}}],
        "assistant_id": None, "run_id": None, "attachments": [], "metadata": {}}


def test_messages_with_images(deps):
    body = thread(deps)
    file_id = upload(deps, b"\x89PNG fake", "cat.png", headers=AUTH)
    parts = [{"type": "text", "text": "What is this?"}, {"type": "image_file", "image_file": {"file_id": file_id}},
             {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}}]
    message = ok(api(deps, "POST", f"/v1/threads/{body['id']}/messages", {"role": "user", "content": parts}))
    assert message["content"][1:] == [{"type": "image_file", "image_file": {"file_id": file_id, "detail": "auto"}},
                                      {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                                                          "detail": "low"}}]
    assistant_image = api(deps, "POST", f"/v1/threads/{body['id']}/messages", {"role": "assistant", "content": parts})
    assert (assistant_image.status, assistant_image.body["error"]["param"]) == (400, "content[1]")
    stranger = api(deps, "POST", f"/v1/threads/{body['id']}/messages", {"role": "user", "content": parts},
                   headers=OTHER)
    assert stranger.status == 404
    other_file = upload(deps, b"\x89PNG other", "dog.png", headers=OTHER)
    parts[1]["image_file"]["file_id"] = other_file
    refused = api(deps, "POST", f"/v1/threads/{body['id']}/messages", {"role": "user", "content": parts})
    assert (refused.status, refused.body["error"]["param"]) == (404, "content[1].image_file.file_id")


def test_attachments_go_to_the_threads_own_vector_store(deps):
    body = thread(deps)
    first, second = upload(deps, b"alpha notes", headers=AUTH), upload(deps, b"beta notes", headers=AUTH)
    attach = [{"file_id": first, "tools": [{"type": "file_search"}]}]
    message = ok(api(deps, "POST", f"/v1/threads/{body['id']}/messages",
                     {"role": "user", "content": "Read this", "attachments": attach}))
    assert message["attachments"] == attach
    [store_id] = ok(api(deps, "GET", f"/v1/threads/{body['id']}"))["tool_resources"]["file_search"]["vector_store_ids"]
    store = ok(api(deps, "GET", f"/v1/vector_stores/{store_id}"))
    assert store["expires_after"] == {"anchor": "last_active_at", "days": 7}
    ok(api(deps, "POST", f"/v1/threads/{body['id']}/messages", {"role": "user", "content": "And this", "attachments": [
        {"file_id": second, "tools": [{"type": "file_search"}]}, *attach]}))
    files = ok(api(deps, "GET", f"/v1/vector_stores/{store_id}/files", order="asc"))["data"]
    assert [f["id"] for f in files] == [first, second]
    sandbox = api(deps, "POST", f"/v1/threads/{body['id']}/messages", {"role": "user", "content": "x", "attachments": [
        {"file_id": first, "tools": [{"type": "code_interpreter"}]}]})
    assert (sandbox.status, sandbox.body["error"]["param"]) == (400, "attachments[0].tools[0].type")


def test_a_threads_initial_messages_can_attach_files(deps):
    file_id = upload(deps, b"gamma notes", headers=AUTH)
    body = thread(deps, messages=[{"role": "user", "content": "x", "attachments": [
        {"file_id": file_id, "tools": [{"type": "file_search"}]}]}])
    assert body["tool_resources"]["file_search"]["vector_store_ids"]
    bad = api(deps, "POST", "/v1/threads", {"messages": [{"role": "user", "content": "x"}, {"role": "tool"}]})
    assert (bad.status, bad.body["error"]["param"]) == (400, "messages[1].role")


def test_modify_and_delete_messages_and_threads(deps):
    body = thread(deps, "Hi")
    [message] = ok(api(deps, "GET", f"/v1/threads/{body['id']}/messages"))["data"]
    path = f"/v1/threads/{body['id']}/messages/{message['id']}"
    assert ok(api(deps, "POST", path, {"metadata": {"seen": "yes"}}))["metadata"] == {"seen": "yes"}
    assert ok(api(deps, "GET", path))["metadata"] == {"seen": "yes"}
    assert ok(api(deps, "DELETE", path)) == {"id": message["id"], "object": "thread.message.deleted", "deleted": True}
    assert api(deps, "GET", path).status == 404
    assert ok(api(deps, "POST", f"/v1/threads/{body['id']}", {"metadata": {"a": "b"}}))["metadata"] == {"a": "b"}
    assert ok(api(deps, "DELETE", f"/v1/threads/{body['id']}"))["deleted"] is True
    assert api(deps, "GET", f"/v1/threads/{body['id']}").status == 404
    assert deps.db.conn.execute("SELECT COUNT(*) FROM thread_messages").fetchone()[0] == 0


def test_another_key_gets_404s(deps):
    mine, body = assistant(deps), thread(deps, "Hi")
    [message] = ok(api(deps, "GET", f"/v1/threads/{body['id']}/messages"))["data"]
    for method, path, data in [
            ("GET", f"/v1/assistants/{mine['id']}", None), ("POST", f"/v1/assistants/{mine['id']}", {}),
            ("DELETE", f"/v1/assistants/{mine['id']}", None), ("GET", f"/v1/threads/{body['id']}", None),
            ("POST", f"/v1/threads/{body['id']}", {}), ("DELETE", f"/v1/threads/{body['id']}", None),
            ("GET", f"/v1/threads/{body['id']}/messages", None),
            ("POST", f"/v1/threads/{body['id']}/messages", {"role": "user", "content": "x"}),
            ("GET", f"/v1/threads/{body['id']}/messages/{message['id']}", None),
            ("POST", f"/v1/threads/{body['id']}/messages/{message['id']}", {}),
            ("DELETE", f"/v1/threads/{body['id']}/messages/{message['id']}", None),
            ("GET", f"/v1/threads/{body['id']}/runs", None),
            ("POST", f"/v1/threads/{body['id']}/runs", {"assistant_id": mine["id"]}),
            ("POST", "/v1/threads/runs", {"assistant_id": mine["id"]})]:
        assert api(deps, method, path, data, headers=OTHER).status == 404, (method, path)
    assert ok(api(deps, "GET", f"/v1/threads/{body['id']}", headers=BETA))["id"] == body["id"]
