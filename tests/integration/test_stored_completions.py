"""Stored chat completions through the official SDK against the running worker: `store: true` on
whole and streamed completions, list with model and metadata filters and pages, retrieve, update,
messages, delete (every body valid against OpenAI's schema), and other keys seeing none of it."""
import httpx
import openai
import pytest

from openai_spec import check

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]


@pytest.fixture
def http_of(server):
    """HTTP with an SDK client's key, for the raw bodies."""
    sessions = []

    def make(sdk: openai.OpenAI) -> httpx.Client:
        sessions.append(httpx.Client(base_url=server.url, timeout=30,
                                     headers={"authorization": f"Bearer {sdk.api_key}"}))
        return sessions[-1]
    yield make
    for session in sessions:
        session.close()


def test_store_list_retrieve_update_messages_delete(owner, http_of):
    whole = owner.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, store=True,
                                          metadata={"team": "a"})
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in owner.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "streamed"}], store=True, stream=True,
        metadata={"team": "b"}) if chunk.choices)
    assert streamed == "Echo: streamed"
    unstored = owner.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    listed = [c.id for c in owner.chat.completions.list().data]  # by (created, id): the same second may hold both
    assert sorted(listed) == sorted([whole.id, stream_id(owner)]) and unstored.id not in listed
    assert [c.id for c in owner.chat.completions.list(metadata={"team": "a"}).data] == [whole.id]
    assert [c.id for c in owner.chat.completions.list(model="gpt-4o-mini").data] == [whole.id]
    newest = owner.chat.completions.list(order="desc", limit=1)
    assert ([c.id for c in newest.data], newest.has_more) == ([listed[-1]], True)
    assert [c.id for c in owner.chat.completions.list(after=listed[0]).data] == [listed[1]]
    assert owner.chat.completions.retrieve(stream_id(owner)).choices[0].message.content == "Echo: streamed"

    kept = owner.chat.completions.retrieve(whole.id)
    assert (kept.id, kept.choices, kept.usage, kept.metadata) == (whole.id, whole.choices, whole.usage, {"team": "a"})
    updated = owner.chat.completions.update(whole.id, metadata={"team": "c"})
    assert updated.metadata == {"team": "c"}
    messages = owner.chat.completions.messages.list(whole.id)
    assert [(m.role, m.content) for m in messages.data] == [("system", "be brief"), ("user", "hello there")]

    http = http_of(owner)
    check("ChatCompletionList", http.get("/v1/chat/completions").json())
    check("CreateChatCompletionResponse", http.get(f"/v1/chat/completions/{whole.id}").json())
    page = http.get(f"/v1/chat/completions/{whole.id}/messages").json()
    # OpenAI's schema types each message as an assistant message; its own example lists the
    # request's roles, as we do: every other field is checked.
    check("ChatCompletionMessageList", {**page, "data": [{**m, "role": "assistant"} for m in page["data"]]})

    deleted = owner.chat.completions.delete(whole.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (whole.id, True, "chat.completion.deleted")
    check("ChatCompletionDeleted", deleted.model_dump())
    with pytest.raises(openai.NotFoundError):
        owner.chat.completions.retrieve(whole.id)


def stream_id(owner) -> str:
    [found] = owner.chat.completions.list(metadata={"team": "b"}).data
    return found.id


def test_other_keys_get_404s_on_every_route(owner, stranger):
    made = owner.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, store=True)
    for attempt in (lambda: stranger.chat.completions.retrieve(made.id),
                    lambda: stranger.chat.completions.update(made.id, metadata={"x": "y"}),
                    lambda: stranger.chat.completions.messages.list(made.id),
                    lambda: stranger.chat.completions.delete(made.id)):
        with pytest.raises(openai.NotFoundError) as missing:
            attempt()
        assert missing.value.param == "completion_id"
    assert stranger.chat.completions.list().data == []
    assert owner.chat.completions.retrieve(made.id).metadata == {}
