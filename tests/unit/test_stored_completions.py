"""Stored chat completions: `store: true` keeps the completion (a stream's when it completes) and
its request messages; list with model / metadata filters and pages, retrieve, update metadata,
delete, messages; other keys see none of it; without `store` no D1 statement at all."""
import pytest

from api import auth
from unit.support import (AUTH, NOW, USER, call, create_chat, drain, error, native, native_stream, oai_chunks,
                          oai_tool_deltas, post, run, stream_chat, tool)

OTHER_SECRET = "sk-other-owner"
OTHER = {"authorization": f"Bearer {OTHER_SECRET}"}
LLAMA_FAST = "@cf/meta/llama-3.1-8b-instruct-fast"
GLM = "@cf/zai-org/glm-4.7-flash"


@pytest.fixture(autouse=True)
def other_key(deps):
    deps.db.conn.execute("INSERT INTO api_keys (id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                         ("key_other", "other", auth.key_hash(OTHER_SECRET), OTHER_SECRET[:10], NOW))
    yield
    run(drain(deps))


def stored(deps, text="Hello!", **body) -> dict:
    response = create_chat(deps, native(text, 12, 3), store=True, **body)
    assert response.status == 200, response.body
    return response.body


def get(deps, path, headers=AUTH, **query):
    return call(deps, "GET", path, headers=headers, query=query)


def test_a_stored_completion_is_retrieved_as_returned(deps):
    body = stored(deps, metadata={"team": "a"}, temperature=0.5, user="u1")
    kept = get(deps, f"/v1/chat/completions/{body['id']}").body
    assert kept == {**body, "metadata": {"team": "a"}, "request_id": "req_0001", "temperature": 0.5, "top_p": None,
                    "seed": None, "presence_penalty": None, "frequency_penalty": None, "tools": None,
                    "tool_choice": None, "response_format": None, "input_user": "u1"}


def test_without_store_nothing_is_written(deps):
    statements = []
    real = deps.db

    class Counting:
        async def query(self, sql, params=()):
            statements.append(sql)
            return await real.query(sql, params)

        async def execute(self, sql, params=()):
            statements.append(sql)

        async def batch(self, batch):
            statements.extend(sql for sql, _ in batch)
    deps.db = Counting()
    assert create_chat(deps).status == 200
    assert stream_chat(deps, native_stream(["Hi"], 3, 1))[-1] == "[DONE]"
    assert statements == []


def test_the_request_messages_are_listed_in_pages(deps):
    messages = [{"role": "system", "content": "be brief"}, USER,
                {"role": "user", "content": [{"type": "text", "text": "and"}, {"type": "text", "text": "more"}]}]
    body = stored(deps, messages=messages)
    page = get(deps, f"/v1/chat/completions/{body['id']}/messages", limit="2").body
    assert page == {"object": "list", "has_more": True, "first_id": f"{body['id']}-0", "last_id": f"{body['id']}-1",
                    "data": [{"id": f"{body['id']}-0", "role": "system", "content": "be brief", "refusal": None, "name": None,
                              "content_parts": None},
                             {"id": f"{body['id']}-1", "role": "user", "content": "Say hello", "refusal": None, "name": None,
                              "content_parts": None}]}
    rest = get(deps, f"/v1/chat/completions/{body['id']}/messages", after=page["last_id"]).body
    assert rest["data"] == [{"id": f"{body['id']}-2", "role": "user", "content": "and\nmore", "refusal": None, "name": None,
                             "content_parts": messages[2]["content"]}]
    newest = get(deps, f"/v1/chat/completions/{body['id']}/messages", order="desc", limit="1").body
    assert [m["id"] for m in newest["data"]] == [f"{body['id']}-2"]


def test_list_filters_and_pages(deps):
    first = stored(deps, metadata={"team": "a", "env": "prod"})
    second = stored(deps, model="gpt-4o-mini", metadata={"team": "b"})
    third = stored(deps, metadata={"team": "a"})
    ids = lambda **q: [c["id"] for c in get(deps, "/v1/chat/completions", **q).body["data"]]  # noqa: E731
    assert ids() == [first["id"], second["id"], third["id"]]  # oldest first by default
    assert ids(order="desc", limit="2") == [third["id"], second["id"]]
    assert ids(after=first["id"]) == [second["id"], third["id"]]
    assert ids(model="gpt-4o-mini") == ids(model=LLAMA_FAST) == [second["id"]]
    assert ids(model="gpt-4o") == [first["id"], third["id"]]
    assert ids(**{"metadata[team]": "a"}) == [first["id"], third["id"]]
    assert ids(**{"metadata[team]": "a", "metadata[env]": "prod"}) == [first["id"]]
    page = get(deps, "/v1/chat/completions", limit="1").body
    assert (page["object"], page["has_more"], page["data"][0]["metadata"]) == ("list", True, {"team": "a", "env": "prod"})
    assert get(deps, "/v1/chat/completions", limit="0").status == 400


def test_update_metadata_and_delete(deps):
    body = stored(deps, metadata={"a": "1"})
    updated = post(deps, f"/v1/chat/completions/{body['id']}", {"metadata": {"b": "2"}})
    assert (updated.status, updated.body["metadata"]) == (200, {"b": "2"})
    assert get(deps, f"/v1/chat/completions/{body['id']}").body["metadata"] == {"b": "2"}
    assert post(deps, f"/v1/chat/completions/{body['id']}", {}).body["error"]["code"] == "missing_required_parameter"
    deleted = call(deps, "DELETE", f"/v1/chat/completions/{body['id']}")
    assert deleted.body == {"object": "chat.completion.deleted", "id": body["id"], "deleted": True}
    assert get(deps, f"/v1/chat/completions/{body['id']}").status == 404
    assert deps.db.conn.execute("SELECT COUNT(*) FROM chat_completion_messages").fetchone()[0] == 0


def test_large_values_live_in_r2_and_go_with_the_completion(deps):
    body = stored(deps, text="word " * 10_000, messages=[{"role": "user", "content": "x" * 40_000}])
    assert sorted(deps.blobs.objects) == [f"stored/chat_completions/{body['id']}",
                                          f"stored/chat_completions/{body['id']}/0"]
    assert get(deps, f"/v1/chat/completions/{body['id']}").body["choices"] == body["choices"]
    assert get(deps, f"/v1/chat/completions/{body['id']}/messages").body["data"][0]["content"] == "x" * 40_000
    call(deps, "DELETE", f"/v1/chat/completions/{body['id']}")
    assert deps.blobs.objects == {}


def test_other_keys_get_404s_and_empty_lists(deps):
    body = stored(deps)
    missing = error(f"No chat completion found with id '{body['id']}'.", param="completion_id")
    for method, path, sent in [("GET", "", None), ("POST", "", {"metadata": {}}), ("DELETE", "", None),
                               ("GET", "/messages", None)]:
        response = call(deps, method, f"/v1/chat/completions/{body['id']}{path}", sent, headers=OTHER)
        assert (response.status, response.body) == (404, missing)
    assert get(deps, "/v1/chat/completions", headers=OTHER).body["data"] == []
    assert get(deps, f"/v1/chat/completions/{body['id']}").status == 200


def test_a_stream_is_stored_when_it_completes(deps):
    parsed = stream_chat(deps, native_stream(["Hel", "lo", "!"], 5, 3), store=True,
                         stream_options={"include_usage": True})
    kept = get(deps, f"/v1/chat/completions/{parsed[0]['id']}").body
    assert kept["object"] == "chat.completion"
    assert kept["choices"] == [{"index": 0, "message": {"role": "assistant", "content": "Hello!", "refusal": None},
                                "logprobs": None, "finish_reason": "stop"}]
    assert kept["usage"] == parsed[-2]["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}


def test_a_streamed_tool_call_is_stored_whole(deps):
    chunks = oai_chunks(oai_tool_deltas(0, "call_up1", "get_weather", ['{"ci', 'ty": "Paris"}']), "tool_calls",
                        completion=9)
    parsed = stream_chat(deps, chunks, model=GLM, store=True, tools=[tool("get_weather", city={"type": "string"})])
    [choice] = get(deps, f"/v1/chat/completions/{parsed[0]['id']}").body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [{"id": "call_up1", "type": "function", "function": {
        "name": "get_weather", "arguments": '{"city": "Paris"}'}}]


def test_a_stream_left_early_is_not_stored(deps):
    response = create_chat(deps, native_stream(["a ", "b ", "c"], 3, 3), store=True, stream=True)

    async def first_frames():
        frames_ = response.events
        first = await frames_.__anext__()
        await frames_.aclose()
        return first
    run(first_frames())
    assert get(deps, "/v1/chat/completions").body["data"] == []
