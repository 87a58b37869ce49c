"""GET /v1/console/responses and /v1/console/conversations: the owner's stored objects only, newest
first, paged; each links to the API's own retrieve route."""
import pytest

from unit.console.keys_support import add_key
from unit.support import call, drain, native, post, run


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def respond(deps, headers, text):
    deps.ai.answer(native(f"Echo: {text}"))
    return post(deps, "/v1/responses", {"model": "gpt-4o", "input": text}, headers=headers).body


def test_stored_responses_of_the_owner_newest_first(deps):
    mine, stranger = add_key(deps, "key_a", project="p"), add_key(deps, "key_b")
    first, second = respond(deps, mine, "one"), respond(deps, mine, "two")
    respond(deps, stranger, "not yours")
    listed = call(deps, "GET", "/v1/console/responses", headers=mine).body
    assert [r["id"] for r in listed["data"]] == [second["id"], first["id"]]  # same second: by id
    assert listed["data"][0] == {"object": "response", "id": listed["data"][0]["id"], "created_at": first["created_at"],
                                 "status": "completed", "previous_response_id": None, "conversation_id": None}
    assert call(deps, "GET", f"/v1/responses/{first['id']}", headers=mine).status == 200
    page = call(deps, "GET", "/v1/console/responses", headers=mine, query={"limit": "1"}).body
    assert (len(page["data"]), page["has_more"]) == (1, True)


def test_stored_conversations_of_the_owner(deps):
    mine, stranger = add_key(deps, "key_a"), add_key(deps, "key_b")
    made = post(deps, "/v1/conversations", {}, headers=mine).body
    post(deps, "/v1/conversations", {}, headers=stranger)
    listed = call(deps, "GET", "/v1/console/conversations", headers=mine).body
    assert listed["data"] == [{"object": "conversation", "id": made["id"], "created_at": made["created_at"]}]
