"""Stop sequences and n choices on chat completions, through the official SDK.

Workers AI models do not stop at OpenAI's `stop` strings (the stand-in ignores them, as native models
do), so the worker cuts the output itself — also when a stop sequence straddles streamed pieces:
[[chars:N]] makes the stand-in stream its reply in pieces of N characters. With n > 1 the worker
makes n calls, so every choice says the same."""
import openai
import pytest

NATIVE = "gpt-4o"
OPENAI_SHAPED = "@cf/zai-org/glm-4.7-flash"
CHOICES = "@cf/qwen/qwen3-30b-a3b-fp8"
FAMILIES = [NATIVE, OPENAI_SHAPED, CHOICES]


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def no_thinking(model: str) -> dict:
    """glm thinks first; tests that count streamed pieces or tokens turn that off."""
    return {"reasoning_effort": "none"} if model == OPENAI_SHAPED else {}


def pieces_of(chunks, index: int = 0) -> list:
    return [c.choices[0].delta.content for c in chunks
            if c.choices and c.choices[0].index == index and c.choices[0].delta.content]


def usage_triple(usage) -> tuple:
    return usage.prompt_tokens, usage.completion_tokens, usage.total_tokens


# --- stop ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", FAMILIES)
def test_stop_cuts_a_whole_reply(client, model):
    reply = client.chat.completions.create(model=model, messages=user("[[words:10]]"), stop="w5")
    assert reply.choices[0].message.content == "w1 w2 w3 w4 "
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", FAMILIES)
def test_the_stop_sequence_that_completes_first_wins(client, model):
    reply = client.chat.completions.create(model=model, messages=user("[[words:10]]"), stop=["w7", " w3", "w9"])
    assert reply.choices[0].message.content == "w1 w2"
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", FAMILIES)
def test_a_stop_sequence_that_never_occurs_changes_nothing(client, model):
    reply = client.chat.completions.create(model=model, messages=user("[[words:5]]"), stop=["w6", "zz"],
                                           max_tokens=3)
    assert reply.choices[0].message.content == "w1 w2 w3"
    assert reply.choices[0].finish_reason == "length"


@pytest.mark.parametrize("model", FAMILIES)
def test_stop_straddling_streamed_pieces_never_leaks(client, model):
    # "Echo: alpha beta STOP gamma" in 3-character pieces: "bet", "a S", "TOP", " ga", ...
    chunks = list(client.chat.completions.create(model=model, messages=user("[[chars:3]] alpha beta STOP gamma"),
                                                 stop=["STOP", "never"], stream=True, **no_thinking(model)))
    pieces = pieces_of(chunks)
    assert "".join(pieces) == "Echo: alpha beta "
    assert pieces == ["Ech", "o: ", "alp", "ha ", "bet", "a "]
    assert [c.choices[0].finish_reason for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]


@pytest.mark.parametrize("model", FAMILIES)
def test_held_back_text_that_is_not_a_stop_is_released(client, model):
    # "ST" could begin "STOP" and is held back until " a" shows that it does not.
    chunks = list(client.chat.completions.create(model=model, messages=user("[[chars:2]] ST alpha STOP beta"),
                                                 stop="STOP", stream=True, **no_thinking(model)))
    assert pieces_of(chunks) == ["Ec", "ho", ": ", "ST a", "lp", "ha", " "]
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_text_held_back_at_the_end_of_the_stream_is_flushed(client):
    chunks = list(client.chat.completions.create(model=NATIVE, messages=user("[[chars:4]] ends with ST"),
                                                 stop="STOP", stream=True))
    assert "".join(pieces_of(chunks)) == "Echo: ends with ST"
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", FAMILIES)
def test_streamed_stop_matches_the_whole_reply(client, model):
    params = dict(model=model, messages=user("[[chars:5]] one two three four"), stop=["thr", "fou"])
    whole = client.chat.completions.create(**params)
    chunks = list(client.chat.completions.create(stream=True, **params))
    assert "".join(pieces_of(chunks)) == whole.choices[0].message.content == "Echo: one two "


def test_up_to_four_stop_sequences(client):
    reply = client.chat.completions.create(model=NATIVE, messages=user("[[words:9]]"),
                                           stop=["w8", "w7", "w6", "w4"])
    assert reply.choices[0].message.content == "w1 w2 w3 "
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=NATIVE, messages=user("[[words:9]]"),
                                       stop=["w8", "w7", "w6", "w5", "w4"])
    assert refused.value.body["param"] == "stop"
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=NATIVE, messages=user("hi"), stop=["w1", ""])
    assert refused.value.body["param"] == "stop"


# --- n choices -----------------------------------------------------------------------------------

@pytest.mark.parametrize("model", FAMILIES)
def test_n_whole_choices_and_summed_usage(client, model):
    single = client.chat.completions.create(model=model, messages=user("[[words:4]] hi"))
    reply = client.chat.completions.create(model=model, messages=user("[[words:4]] hi"), n=3)
    assert [(c.index, c.message.content, c.finish_reason) for c in reply.choices] == [
        (i, "w1 w2 w3 w4", "stop") for i in range(3)]
    assert usage_triple(reply.usage) == tuple(3 * x for x in usage_triple(single.usage))


@pytest.mark.parametrize("model", FAMILIES)
def test_n_streamed_choices_each_complete(client, model):
    single = client.chat.completions.create(model=model, messages=user("[[words:4]] hi"))
    chunks = list(client.chat.completions.create(model=model, messages=user("[[words:4]] hi"), n=3, stream=True,
                                                 stream_options={"include_usage": True}))
    with_choices = [c for c in chunks if c.choices]
    assert all(len(c.choices) == 1 for c in with_choices)
    for index in range(3):
        mine = [c.choices[0] for c in with_choices if c.choices[0].index == index]
        assert mine[0].delta.role == "assistant"
        assert "".join(c.delta.content or "" for c in mine) == "w1 w2 w3 w4"
        assert [c.finish_reason for c in mine] == [None] * (len(mine) - 1) + ["stop"]
    assert {c.choices[0].index for c in with_choices} == {0, 1, 2}
    assert chunks[-1].choices == []
    assert usage_triple(chunks[-1].usage) == tuple(3 * x for x in usage_triple(single.usage))


@pytest.mark.parametrize("model", FAMILIES)
def test_n_with_stop(client, model):
    reply = client.chat.completions.create(model=model, messages=user("[[words:6]]"), n=2, stop="w3")
    assert [(c.index, c.message.content, c.finish_reason) for c in reply.choices] == [
        (0, "w1 w2 ", "stop"), (1, "w1 w2 ", "stop")]
    chunks = list(client.chat.completions.create(model=model, messages=user("[[chars:2]] [[words:6]]"), n=2,
                                                 stop="w3", stream=True, **no_thinking(model)))
    for index in (0, 1):
        assert "".join(pieces_of(chunks, index)) == "w1 w2 "
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices[0].index == index]
        assert finishes[-1] == "stop" and finishes.count("stop") == 1
