"""Chat options beyond the basics, through the official SDK: prompt caching (prompt_cache_key, user),
models that cannot stream (gpt-oss, kimi) streamed anyway, logprobs, the context window; and the
legacy completions endpoint's stop, n, echo and suffix.

The AI stand-in counts whitespace words as tokens. Per x-session-affinity value it remembers the
last prompt: cached tokens are the leading words the next prompt shares with it. Logprobs: one entry
per streamed piece, logprob -0.25, top alternatives "alt1", "alt2", … at -1.5."""
import uuid

import openai
import pytest

NATIVE = "gpt-4o"  # llama-3.3: 24,000-token context
OPENAI_SHAPED = "@cf/zai-org/glm-4.7-flash"
SYSTEM = "You are the helpful assistant of the weather desk"  # 9 words
INSTRUCT = "gpt-3.5-turbo-instruct"


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def conversation(question: str) -> list:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]


def cached(usage):
    return usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else None


def new_key() -> str:
    return f"test-{uuid.uuid4()}"


# --- prompt caching ------------------------------------------------------------------------------

@pytest.mark.parametrize("model", [NATIVE, OPENAI_SHAPED])
def test_prompt_cache_key_reports_cached_tokens(client, model):
    key = new_key()
    first = client.chat.completions.create(model=model, messages=conversation("question one"), prompt_cache_key=key)
    second = client.chat.completions.create(model=model, messages=conversation("question two"), prompt_cache_key=key)
    assert cached(first.usage) == 0
    assert cached(second.usage) == 9 + 1  # the system prompt and "question"
    assert second.usage.prompt_tokens == 11


@pytest.mark.parametrize("model", [NATIVE, OPENAI_SHAPED])
def test_user_is_the_fallback_cache_key(client, model):
    key = new_key()
    first = client.chat.completions.create(model=model, messages=conversation("question one"), user=key)
    second = client.chat.completions.create(model=model, messages=conversation("question one"), user=key)
    assert (cached(first.usage), cached(second.usage)) == (0, 11)


def test_prompt_cache_key_wins_over_user(client):
    shared_user = new_key()
    client.chat.completions.create(model=NATIVE, messages=conversation("question one"), user=shared_user,
                                   prompt_cache_key=new_key())
    other = client.chat.completions.create(model=NATIVE, messages=conversation("question one"), user=shared_user,
                                           prompt_cache_key=new_key())
    assert cached(other.usage) == 0


def test_cache_keys_do_not_share(client):
    client.chat.completions.create(model=NATIVE, messages=conversation("question one"), prompt_cache_key=new_key())
    other = client.chat.completions.create(model=NATIVE, messages=conversation("question one"),
                                           prompt_cache_key=new_key())
    assert cached(other.usage) == 0


@pytest.mark.parametrize("model", [NATIVE, OPENAI_SHAPED])
def test_streamed_usage_reports_cached_tokens(client, model):
    key = new_key()
    client.chat.completions.create(model=model, messages=conversation("question one"), prompt_cache_key=key)
    chunks = list(client.chat.completions.create(model=model, messages=conversation("question two"),
                                                 prompt_cache_key=key, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[-1].choices == []
    assert cached(chunks[-1].usage) == 10


# --- models that cannot stream -------------------------------------------------------------------

@pytest.mark.parametrize("model", ["@cf/openai/gpt-oss-120b", "@cf/moonshotai/kimi-k2.6"])
def test_model_without_streaming_still_streams_properly(client, model):
    whole = client.chat.completions.create(model=model, messages=user("tell me more"))
    chunks = list(client.chat.completions.create(model=model, messages=user("tell me more"), stream=True,
                                                 stream_options={"include_usage": True}))
    assert whole.choices[0].message.content == "Echo: tell me more"
    assert chunks[0].choices[0].delta.role == "assistant"
    body = [c for c in chunks if c.choices]
    assert "".join(c.choices[0].delta.content or "" for c in body) == whole.choices[0].message.content
    assert "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in body) == \
        whole.choices[0].message.reasoning_content == "Thinking about: tell me more"
    assert [c.choices[0].finish_reason for c in body] == [None] * (len(body) - 1) + ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens == 5 + 4
    assert {c.id for c in chunks} == {chunks[0].id}
    with client.chat.completions.stream(model=model, messages=user("tell me more")) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Echo: tell me more"
    assert final.choices[0].finish_reason == "stop"


def test_model_without_streaming_streams_n_choices_and_stop(client):
    chunks = list(client.chat.completions.create(model="@cf/openai/gpt-oss-120b", messages=user("hi there"),
                                                 n=2, stop="there", stream=True))
    for index in (0, 1):
        mine = [c.choices[0] for c in chunks if c.choices[0].index == index]
        assert "".join(c.delta.content or "" for c in mine) == "Echo: hi "
        assert mine[-1].finish_reason == "stop"


# --- logprobs ------------------------------------------------------------------------------------

def assert_entry(entry, token: str, top: int) -> None:
    assert (entry.token, entry.logprob, entry.bytes) == (token, -0.25, list(token.encode()))
    assert [(t.token, t.logprob) for t in entry.top_logprobs] == [(f"alt{i + 1}", -1.5) for i in range(top)]


def test_logprobs_with_top_logprobs(client):
    reply = client.chat.completions.create(model=OPENAI_SHAPED, messages=user("one two"), logprobs=True,
                                           top_logprobs=2)
    entries = reply.choices[0].logprobs.content
    assert [e.token for e in entries] == ["Echo:", " one", " two"]
    assert "".join(e.token for e in entries) == reply.choices[0].message.content
    for entry in entries:
        assert_entry(entry, entry.token, 2)


def test_streamed_logprobs_come_with_their_content(client):
    chunks = list(client.chat.completions.create(model=OPENAI_SHAPED, messages=user("one two"), logprobs=True,
                                                 top_logprobs=2, stream=True))
    with_content = [c.choices[0] for c in chunks if c.choices[0].delta.content]
    assert [c.delta.content for c in with_content] == ["Echo:", " one", " two"]
    for choice in with_content:
        [entry] = choice.logprobs.content
        assert_entry(entry, choice.delta.content, 2)
    assert all(c.choices[0].logprobs is None for c in chunks if not c.choices[0].delta.content)


def test_logprobs_without_top_logprobs(client):
    reply = client.chat.completions.create(model=OPENAI_SHAPED, messages=user("one"), logprobs=True)
    assert [(e.token, e.top_logprobs) for e in reply.choices[0].logprobs.content] == [("Echo:", []), (" one", [])]


def test_stop_cuts_the_logprobs_too(client):
    # Logprobs describe the returned content: none for the stop sequence or what followed it.
    params = dict(model=OPENAI_SHAPED, messages=user("[[words:5]]"), logprobs=True, stop=" w3",
                  reasoning_effort="none")
    reply = client.chat.completions.create(**params)
    assert reply.choices[0].message.content == "w1 w2"
    assert [e.token for e in reply.choices[0].logprobs.content] == ["w1", " w2"]
    chunks = list(client.chat.completions.create(stream=True, **params))
    streamed = [e.token for c in chunks if c.choices[0].logprobs for e in c.choices[0].logprobs.content]
    assert streamed == ["w1", " w2"]


@pytest.mark.parametrize("model, params, param", [
    ("gpt-4.1", {"logprobs": True, "top_logprobs": 2}, "logprobs"),
    ("@cf/qwen/qwen3-30b-a3b-fp8", {"logprobs": True}, "logprobs"),
    (OPENAI_SHAPED, {"top_logprobs": 2}, "top_logprobs"),
])
def test_logprobs_refused(client, model, params, param):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=user("hi"), **params)
    assert refused.value.body["param"] == param


# --- the context window --------------------------------------------------------------------------

def test_prompt_over_the_context_window_is_refused(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=NATIVE, messages=user("word " * 24_001))
    body = refused.value.body
    assert (body["code"], body["param"], body["type"]) == (
        "context_length_exceeded", "messages", "invalid_request_error")
    assert "24000" in body["message"]


def test_prompt_and_requested_output_over_the_window_is_refused(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=NATIVE, messages=user("word " * 20_000), max_tokens=4_001)
    assert refused.value.body["code"] == "context_length_exceeded"


def test_default_output_limit_shrinks_to_what_fits(client):
    reply = client.chat.completions.create(model=NATIVE, messages=user("word " * 23_990))
    assert reply.choices[0].finish_reason == "length"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (23_990, 10)


# --- legacy completions --------------------------------------------------------------------------

def test_completion_stop(client):
    reply = client.completions.create(model=INSTRUCT, prompt="[[words:10]]", stop=["w4", "zz"])
    assert [(c.text, c.finish_reason) for c in reply.choices] == [("w1 w2 w3 ", "stop")]
    chunks = list(client.completions.create(model=INSTRUCT, prompt="[[chars:3]] alpha beta STOP gamma",
                                            stop="STOP", stream=True))
    assert [c.choices[0].text for c in chunks] == ["Ech", "o: ", "alp", "ha ", "bet", "a ", ""]
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_completion_n_per_prompt_is_ordered_prompt_by_prompt(client):
    reply = client.completions.create(model=INSTRUCT, prompt=["alpha beta", "[[words:3]] gamma"], n=2)
    assert [(c.index, c.text, c.finish_reason) for c in reply.choices] == [
        (0, "Echo: alpha beta", "stop"), (1, "Echo: alpha beta", "stop"),
        (2, "w1 w2 w3", "stop"), (3, "w1 w2 w3", "stop")]
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (2 * (2 + 2), 2 * (3 + 3))


def test_streamed_completion_n_per_prompt(client):
    chunks = list(client.completions.create(model=INSTRUCT, prompt=["alpha beta", "[[words:3]] gamma"], n=2,
                                            stream=True))
    texts = {i: "".join(c.choices[0].text for c in chunks if c.choices[0].index == i) for i in range(4)}
    assert texts == {0: "Echo: alpha beta", 1: "Echo: alpha beta", 2: "w1 w2 w3", 3: "w1 w2 w3"}
    finishes = sorted((c.choices[0].index, c.choices[0].finish_reason) for c in chunks if c.choices[0].finish_reason)
    assert finishes == [(i, "stop") for i in range(4)]


def test_completion_echo(client):
    reply = client.completions.create(model=INSTRUCT, prompt="say hi", echo=True)
    assert reply.choices[0].text == "say hi" + "Echo: say hi"
    chunks = list(client.completions.create(model=INSTRUCT, prompt="say hi", echo=True, stream=True))
    assert chunks[0].choices[0].text == "say hi"
    assert "".join(c.choices[0].text for c in chunks) == "say hiEcho: say hi"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_completion_echo_with_stop_keeps_the_prompt(client):
    # The stop sequence occurs in the prompt: only the completion is cut.
    reply = client.completions.create(model=INSTRUCT, prompt="[[words:4]] w3", echo=True, stop="w3")
    assert reply.choices[0].text == "[[words:4]] w3" + "w1 w2 "


@pytest.mark.parametrize("stream", [False, True])
def test_completion_suffix_is_refused(client, stream):
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model=INSTRUCT, prompt="def f(", suffix="    return x", stream=stream)
    assert (refused.value.body["param"], refused.value.body["code"]) == ("suffix", "unsupported_parameter")
