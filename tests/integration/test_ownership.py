"""Ownership on every route of api.routes, table-driven: a second key gets 404s for the first key's
objects (by every method, through every parent id) and lists without them, and the objects are
unchanged afterwards. ROUTE_CASES must name every route: one added later fails
test_every_route_is_covered until it is classified here."""
import json
import time

import httpx
import pytest

from api.routes import ROUTES
from integration.devserver import keys

# (method, template) → the body a stranger sends to an object route (None: no body).
OBJECT_ROUTES = {
    ("GET", "/v1/files/{file_id}"): None,
    ("GET", "/v1/files/{file_id}/content"): None,
    ("DELETE", "/v1/files/{file_id}"): None,
    ("GET", "/v1/vector_stores/{vector_store_id}"): None,
    ("POST", "/v1/vector_stores/{vector_store_id}"): {"name": "taken over"},
    ("DELETE", "/v1/vector_stores/{vector_store_id}"): None,
    ("POST", "/v1/vector_stores/{vector_store_id}/search"): {"query": "cat"},
    ("POST", "/v1/vector_stores/{vector_store_id}/files"): {"file_id": "{stranger_file}"},
    ("GET", "/v1/vector_stores/{vector_store_id}/files"): None,
    ("GET", "/v1/vector_stores/{vector_store_id}/files/{file_id}"): None,
    ("POST", "/v1/vector_stores/{vector_store_id}/files/{file_id}"): {"attributes": {"x": "y"}},
    ("DELETE", "/v1/vector_stores/{vector_store_id}/files/{file_id}"): None,
    ("POST", "/v1/vector_stores/{vector_store_id}/file_batches"): {"file_ids": ["{stranger_file}"]},
    ("GET", "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}"): None,
    ("POST", "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel"): None,
    ("GET", "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files"): None,
    ("GET", "/v1/responses/{response_id}"): None,
    ("DELETE", "/v1/responses/{response_id}"): None,
    ("POST", "/v1/responses/{response_id}/cancel"): None,
    ("GET", "/v1/responses/{response_id}/input_items"): None,
    ("GET", "/v1/conversations/{conversation_id}"): None,
    ("POST", "/v1/conversations/{conversation_id}"): {"metadata": {"taken": "over"}},
    ("DELETE", "/v1/conversations/{conversation_id}"): None,
    ("GET", "/v1/conversations/{conversation_id}/items"): None,
    ("POST", "/v1/conversations/{conversation_id}/items"): {
        "items": [{"type": "message", "role": "user", "content": "injected"}]},
    ("GET", "/v1/conversations/{conversation_id}/items/{item_id}"): None,
    ("DELETE", "/v1/conversations/{conversation_id}/items/{item_id}"): None,
    ("GET", "/v1/assistants/{assistant_id}"): None,
    ("POST", "/v1/assistants/{assistant_id}"): {"name": "taken over"},
    ("DELETE", "/v1/assistants/{assistant_id}"): None,
    ("POST", "/v1/threads/runs"): {"assistant_id": "{assistant_id}"},
    ("GET", "/v1/threads/{thread_id}"): None,
    ("POST", "/v1/threads/{thread_id}"): {"metadata": {"taken": "over"}},
    ("DELETE", "/v1/threads/{thread_id}"): None,
    ("POST", "/v1/threads/{thread_id}/messages"): {"role": "user", "content": "injected"},
    ("GET", "/v1/threads/{thread_id}/messages"): None,
    ("GET", "/v1/threads/{thread_id}/messages/{message_id}"): None,
    ("POST", "/v1/threads/{thread_id}/messages/{message_id}"): {"metadata": {"taken": "over"}},
    ("DELETE", "/v1/threads/{thread_id}/messages/{message_id}"): None,
    ("POST", "/v1/threads/{thread_id}/runs"): {"assistant_id": "{stranger_assistant}"},
    ("GET", "/v1/threads/{thread_id}/runs"): None,
    ("GET", "/v1/threads/{thread_id}/runs/{run_id}"): None,
    ("POST", "/v1/threads/{thread_id}/runs/{run_id}"): {"metadata": {"taken": "over"}},
    ("POST", "/v1/threads/{thread_id}/runs/{run_id}/cancel"): None,
    ("POST", "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"): {
        "tool_outputs": [{"tool_call_id": "{call_id}", "output": "taken over"}]},
    ("GET", "/v1/threads/{thread_id}/runs/{run_id}/steps"): None,
    ("GET", "/v1/threads/{thread_id}/runs/{run_id}/steps/{step_id}"): None,
    ("GET", "/v1/chat/completions/{completion_id}"): None,
    ("POST", "/v1/chat/completions/{completion_id}"): {"metadata": {"taken": "over"}},
    ("DELETE", "/v1/chat/completions/{completion_id}"): None,
    ("GET", "/v1/chat/completions/{completion_id}/messages"): None,
    ("GET", "/v1/batches/{batch_id}"): None,  # {batch_id}: the owner's batch here (BATCHES)
    ("POST", "/v1/batches/{batch_id}/cancel"): None,
}
BATCHES = "/v1/batches/"  # whose {batch_id} is an OpenAI batch, not a vector store file batch
# Lists of the caller's objects: the stranger's must not hold the owner's.
LIST_ROUTES = {("GET", "/v1/files"): "data", ("GET", "/v1/vector_stores"): "data", ("GET", "/v1/assistants"): "data",
               ("GET", "/v1/console/responses"): "data", ("GET", "/v1/console/conversations"): "data",
               ("GET", "/v1/chat/completions"): "data", ("GET", "/v1/batches"): "data"}
# Routes that read or make nothing another key owns.
NOT_OWNED = {
    ("GET", "/v1/models"): "the catalog", ("GET", "/v1/models/{model:path}"): "the catalog",
    ("POST", "/v1/chat/completions"): "stores nothing", ("POST", "/v1/completions"): "stores nothing",
    ("POST", "/v1/embeddings"): "stores nothing", ("POST", "/v1/moderations"): "stores nothing",
    ("POST", "/v1/audio/transcriptions"): "stores nothing", ("POST", "/v1/audio/translations"): "stores nothing",
    ("POST", "/v1/audio/speech"): "stores nothing",
    ("POST", "/v1/images/generations"): "stores results only behind signed URLs",
    ("POST", "/v1/images/edits"): "likewise", ("POST", "/v1/images/variations"): "likewise",
    ("GET", "/v1/images/content/{key:path}"): "public: the signature is the access (test_images.py)",
    ("POST", "/v1/files"): "makes the caller's own", ("POST", "/v1/vector_stores"): "makes the caller's own",
    ("POST", "/v1/responses"): "makes the caller's own (a previous_response_id or conversation of another "
                               "key is a 404: test_a_stranger_cannot_continue_the_owners_context)",
    ("POST", "/v1/responses/input_tokens"): "stores nothing (context ids checked as for create)",
    ("POST", "/v1/conversations"): "makes the caller's own",
    ("POST", "/v1/batches"): "makes the caller's own (another key's input file is a 404: test_batches.py)",
    ("POST", "/v1/assistants"): "makes the caller's own (vector stores and files it names are checked: "
                                "test_assistants.py)",
    ("POST", "/v1/threads"): "makes the caller's own (files its messages name are checked: test_assistants.py)",
    ("GET", "/v1/console/me"): "the caller's own session",
    ("GET", "/v1/console/usage"): "the caller's own usage, summed per owner (test_console)",
    ("GET", "/v1/console/keys"): "admin keys only, 403 for others (tests/integration/console)",
    ("POST", "/v1/console/keys"): "admin keys only",
    ("DELETE", "/v1/console/keys/{key_id}"): "admin keys only",
    ("POST", "/v1/console/keys/{key_id}/limits"): "admin keys only",
}
ROUTE_CASES = {**{route: "object" for route in OBJECT_ROUTES}, **{route: "list" for route in LIST_ROUTES},
               **NOT_OWNED}


def test_every_route_is_covered():
    assert {(r.method, r.template) for r in ROUTES} == set(ROUTE_CASES)


def client_for(server, name: str) -> httpx.Client:
    secret = keys(server, "create", "--name", name)["key"]
    return httpx.Client(base_url=server.url, timeout=30, headers={
        "authorization": f"Bearer {secret}", "openai-beta": "assistants=v2"})  # the Assistants API needs it


def upload(client: httpx.Client, name: str) -> str:
    made = client.post("/v1/files", files={"file": (name, b"The cat sat on the mat.", "text/plain")},
                       data={"purpose": "assistants"})
    assert made.status_code == 200, made.text
    return made.json()["id"]


@pytest.fixture(scope="module")
def world(server):
    """The owner's file, store, attached file and batch; the stranger's own file."""
    owner, stranger = client_for(server, "owner"), client_for(server, "stranger")
    file_id = upload(owner, "mine.txt")
    store = owner.post("/v1/vector_stores", json={"name": "mine"}).json()["id"]
    owner.post(f"/v1/vector_stores/{store}/files", json={"file_id": file_id}).raise_for_status()
    batch = owner.post(f"/v1/vector_stores/{store}/file_batches", json={"file_ids": [file_id]}).json()["id"]
    deadline = time.monotonic() + 30
    while owner.get(f"/v1/vector_stores/{store}/files/{file_id}").json()["status"] == "in_progress":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    response = owner.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "remember me"}).json()["id"]
    conversation = owner.post("/v1/conversations", json={
        "items": [{"type": "message", "role": "user", "content": "mine"}]}).json()["id"]
    item = owner.get(f"/v1/conversations/{conversation}/items").json()["data"][0]["id"]
    ids = {"file_id": file_id, "vector_store_id": store, "batch_id": batch, "response_id": response,
           "conversation_id": conversation, "item_id": item, "stranger_file": upload(stranger, "theirs.txt"),
           **assistant_world(owner, stranger), **stored_world(owner)}
    yield owner, stranger, ids
    owner.close()
    stranger.close()


def assistant_world(owner: httpx.Client, stranger: httpx.Client) -> dict:
    """The owner's assistant, thread, message, and run waiting for a tool output with its step."""
    weather = {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
    assistant = owner.post("/v1/assistants", json={"model": "gpt-4o", "name": "mine", "tools": [weather]}).json()["id"]
    thread = owner.post("/v1/threads", json={"metadata": {"mine": "yes"}, "messages": [
        {"role": "user", "content": "[[call]] Weather in Paris?"}]}).json()["id"]
    run = owner.post(f"/v1/threads/{thread}/runs", json={"assistant_id": assistant}).json()["id"]
    deadline = time.monotonic() + 30
    while (waiting := owner.get(f"/v1/threads/{thread}/runs/{run}").json())["status"] != "requires_action":
        assert time.monotonic() < deadline, waiting
        time.sleep(0.2)
    return {"assistant_id": assistant, "thread_id": thread, "run_id": run,
            "message_id": owner.get(f"/v1/threads/{thread}/messages").json()["data"][0]["id"],
            "step_id": owner.get(f"/v1/threads/{thread}/runs/{run}/steps").json()["data"][0]["id"],
            "call_id": waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"],
            "stranger_assistant": stranger.post("/v1/assistants", json={"model": "gpt-4o"}).json()["id"]}


def stored_world(owner: httpx.Client) -> dict:
    """The owner's stored chat completion and batch."""
    completion = owner.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "store": True, "metadata": {
        "mine": "yes"}, "messages": [{"role": "user", "content": "remember me"}]}).json()["id"]
    line = {"custom_id": "1", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "later"}]}}
    made = owner.post("/v1/files", files={"file": ("b.jsonl", json.dumps(line).encode() + b"\n", "application/jsonl")},
                      data={"purpose": "batch"}).json()["id"]
    batch = owner.post("/v1/batches", json={"input_file_id": made, "endpoint": "/v1/chat/completions",
                                            "completion_window": "24h"}).json()["id"]
    return {"completion_id": completion, "openai_batch_id": batch}


def ids_for(template: str, ids: dict) -> dict:
    return {**ids, "batch_id": ids["openai_batch_id"]} if template.startswith(BATCHES) else ids


def filled(value, ids: dict):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: filled(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, ids) for v in value]
    return value


@pytest.mark.parametrize("method,template", sorted(OBJECT_ROUTES))
def test_a_stranger_gets_404_on_every_object_route(world, method, template):
    owner, stranger, ids = world
    body = OBJECT_ROUTES[(method, template)]
    ids = ids_for(template, ids)
    answer = stranger.request(method, template.format(**ids), **({} if body is None else {"json": filled(body, ids)}))
    assert answer.status_code == 404, (method, template, answer.text)
    assert answer.json()["error"]["type"] == "invalid_request_error"


def test_a_stranger_cannot_attach_the_owners_file_to_its_own_store(world):
    owner, stranger, ids = world
    theirs = stranger.post("/v1/vector_stores", json={"name": "theirs"}).json()["id"]
    for path, body in [(f"/v1/vector_stores/{theirs}/files", {"file_id": ids["file_id"]}),
                       (f"/v1/vector_stores/{theirs}/file_batches", {"file_ids": [ids["file_id"]]})]:
        answer = stranger.post(path, json=body)
        assert answer.status_code == 404, (path, answer.text)


@pytest.mark.parametrize("method,template", sorted(LIST_ROUTES))
def test_a_strangers_lists_hold_none_of_the_owners_objects(world, method, template):
    owner, stranger, ids = world
    listed = stranger.request(method, template).json()[LIST_ROUTES[(method, template)]]
    theirs = {ids[name] for name in ("file_id", "vector_store_id", "response_id", "conversation_id",
                                     "assistant_id", "completion_id", "openai_batch_id")}
    assert not {item["id"] for item in listed} & theirs
    assert {item["id"] for item in owner.request(method, template).json()["data"]} & theirs


@pytest.mark.parametrize("field", ["previous_response_id", "conversation"])
@pytest.mark.parametrize("path", ["/v1/responses", "/v1/responses/input_tokens"])
def test_a_stranger_cannot_continue_the_owners_context(world, path, field):
    owner, stranger, ids = world
    own = {"previous_response_id": ids["response_id"], "conversation": ids["conversation_id"]}[field]
    answer = stranger.post(path, json={"model": "gpt-4o-mini", "input": "and then?", field: own})
    assert answer.status_code == 404, answer.text


def test_the_owners_objects_are_untouched(world):
    owner, stranger, ids = world
    store, file_id = ids["vector_store_id"], ids["file_id"]
    assert owner.get(f"/v1/files/{file_id}").status_code == 200
    assert owner.get(f"/v1/files/{file_id}/content").content == b"The cat sat on the mat."
    assert owner.get(f"/v1/vector_stores/{store}").json()["name"] == "mine"
    attached = owner.get(f"/v1/vector_stores/{store}/files/{file_id}").json()
    assert (attached["status"], attached["attributes"]) == ("completed", {})
    assert owner.get(f"/v1/vector_stores/{store}/file_batches/{ids['batch_id']}").json()["status"] != "cancelled"
    assert owner.get(f"/v1/responses/{ids['response_id']}").json()["status"] == "completed"
    conversation = owner.get(f"/v1/conversations/{ids['conversation_id']}").json()
    assert conversation["metadata"] in ({}, None)
    assert [i["id"] for i in owner.get(f"/v1/conversations/{ids['conversation_id']}/items").json()["data"]] == [
        ids["item_id"]]
    assert owner.get(f"/v1/assistants/{ids['assistant_id']}").json()["name"] == "mine"
    thread = f"/v1/threads/{ids['thread_id']}"
    assert owner.get(thread).json()["metadata"] == {"mine": "yes"}
    assert [m["id"] for m in owner.get(f"{thread}/messages").json()["data"]] == [ids["message_id"]]
    assert owner.get(f"{thread}/messages/{ids['message_id']}").json()["metadata"] == {}
    run = owner.get(f"{thread}/runs/{ids['run_id']}").json()
    assert (run["status"], run["metadata"]) == ("requires_action", {})
    assert owner.get(f"/v1/chat/completions/{ids['completion_id']}").json()["metadata"] == {"mine": "yes"}
    assert owner.get(f"/v1/batches/{ids['openai_batch_id']}").json()["status"] not in ("cancelling", "cancelled")
