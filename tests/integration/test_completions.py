"""POST /v1/completions (legacy) through the official SDK: one choice per prompt, whole or streamed."""
import openai
import pytest

MODEL = "gpt-3.5-turbo-instruct"
TARGET = "@cf/meta/llama-3.1-8b-instruct-fast"


def test_string_prompt(client):
    reply = client.completions.create(model=MODEL, prompt="complete this line")
    assert reply.object == "text_completion"
    assert reply.id.startswith("cmpl-")
    assert reply.model == TARGET
    assert [(c.index, c.text, c.finish_reason) for c in reply.choices] == [
        (0, "Echo: complete this line", "stop")]
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (3, 4, 7)


def test_list_prompt_gives_one_choice_per_prompt_and_summed_usage(client):
    reply = client.completions.create(model=MODEL, prompt=["alpha beta", "[[words:6]] gamma"])
    assert [(c.index, c.text, c.finish_reason) for c in reply.choices] == [
        (0, "Echo: alpha beta", "stop"), (1, "w1 w2 w3 w4 w5 w6", "stop")]
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (
        2 + 2, 3 + 6, 13)


def test_max_tokens_cuts_with_finish_reason_length(client):
    reply = client.completions.create(model=MODEL, prompt="[[words:50]]", max_tokens=5)
    assert reply.choices[0].text == "w1 w2 w3 w4 w5"
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 5


def test_stream_matches_the_whole_completion(client):
    whole = client.completions.create(model=MODEL, prompt="stream this prompt")
    chunks = list(client.completions.create(model=MODEL, prompt="stream this prompt", stream=True))
    assert "".join(c.choices[0].text for c in chunks) == whole.choices[0].text == "Echo: stream this prompt"
    assert {c.choices[0].index for c in chunks} == {0}
    assert [c.choices[0].finish_reason for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    assert {c.object for c in chunks} == {"text_completion"}
    assert len({c.id for c in chunks}) == 1


def test_stream_with_list_prompt_streams_both_choices(client):
    chunks = list(client.completions.create(model=MODEL, prompt=["[[words:3]]", "[[words:2]]"],
                                            stream=True, stream_options={"include_usage": True}))
    indexes = [c.choices[0].index for c in chunks if c.choices]
    assert set(indexes) == {0, 1}
    texts = {i: "".join(c.choices[0].text for c in chunks if c.choices and c.choices[0].index == i)
             for i in (0, 1)}
    assert texts == {0: "w1 w2 w3", 1: "w1 w2"}
    finishes = [(c.choices[0].index, c.choices[0].finish_reason) for c in chunks
                if c.choices and c.choices[0].finish_reason]
    assert sorted(finishes) == [(0, "stop"), (1, "stop")]
    assert chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (2, 5)


def test_stream_max_tokens(client):
    chunks = list(client.completions.create(model=MODEL, prompt="[[words:50]]", max_tokens=3, stream=True))
    assert "".join(c.choices[0].text for c in chunks) == "w1 w2 w3"
    assert chunks[-1].choices[0].finish_reason == "length"


@pytest.mark.parametrize("param, value", [("suffix", "tail"), ("best_of", 2), ("logprobs", 2),
                                          ("logit_bias", {"50256": -100})])
def test_unsupported_parameter_is_refused_by_name(client, param, value):
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model=MODEL, prompt="hi", **{param: value})
    assert (refused.value.body["param"], refused.value.body["code"]) == (param, "unsupported_parameter")


def test_embedding_model_is_refused(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model="text-embedding-3-small", prompt="hi")
    assert (refused.value.body["param"], refused.value.body["code"]) == ("model", "model_not_supported")
