"""POST /v1/completions through api.app: n choices per prompt, whole or streamed, with stop and echo;
and refusals."""
import pytest

from api.resources import completions
from unit.support import (DONE, NOW, by_choice, drain, error, frames, native, native_stream, payloads, post, resplit,
                          run)

LLAMA_FAST = "@cf/meta/llama-3.1-8b-instruct-fast"
BASE = {"id": "cmpl-0002", "object": "text_completion", "created": NOW, "model": LLAMA_FAST}


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def create(deps, answers=(), **body):
    for answer in answers:
        deps.ai.answer(answer)
    return post(deps, "/v1/completions", {"model": "gpt-3.5-turbo-instruct", **body})


def choice(text, index=0, finish_reason="stop"):
    return {"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason}


def usage(prompt, completion):
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def test_string_prompt(deps):
    response = create(deps, [native("This is a test.", 5, 5)], prompt="Say this is a test", max_tokens=7)
    assert (response.status, response.body) == (200, {**BASE, "choices": [choice("This is a test.")],
                                                      "usage": usage(5, 5)})
    assert deps.ai.calls == [(LLAMA_FAST, {"prompt": "Say this is a test", "max_tokens": 7}, None)]


def test_list_prompt_one_choice_per_prompt_in_order(deps):
    answers = [native("one", 2, 1), native("two two", 3, 2), native("three three three", 4, 3)]
    response = create(deps, answers, prompt=["first", "second", "third"], max_tokens=3, temperature=0.5)
    assert response.body == {**BASE, "choices": [choice("one", 0), choice("two two", 1),
                                                 choice("three three three", 2, "length")],
                             "usage": usage(9, 6)}
    assert [inputs for _, inputs, _ in deps.ai.calls] == [
        {"prompt": p, "max_tokens": 3, "temperature": 0.5} for p in ("first", "second", "third")]
    run(drain(deps))
    assert [(e["endpoint"], e["prompt_tokens"], e["completion_tokens"]) for e in deps.jobs.sent] == [
        ("/v1/completions", 9, 6)]


def streamed(deps, answers, **body):
    response = create(deps, answers, stream=True, **body)
    parsed = payloads(frames(response))
    assert parsed[-1] == DONE
    return parsed


def test_stream_two_prompts(deps):
    parsed = streamed(deps, [native_stream(["Hel", "lo"], 2, 2), native_stream(["By", "e", "!"], 3, 3)],
                      prompt=["a", "b"], max_tokens=3)
    assert all(set(p) == {*BASE, "choices"} and {k: p[k] for k in BASE} == BASE for p in parsed[:-1])
    assert by_choice(parsed) == {  # each choice in order; the two interleave as they arrive
        0: [choice("Hel", 0, None), choice("lo", 0, None), choice("", 0, "stop")],
        1: [choice("By", 1, None), choice("e", 1, None), choice("!", 1, None), choice("", 1, "length")]}
    assert [inputs for _, inputs, _ in deps.ai.calls] == [
        {"prompt": "a", "max_tokens": 3, "stream": True}, {"prompt": "b", "max_tokens": 3, "stream": True}]
    run(drain(deps))
    assert [(e["prompt_tokens"], e["completion_tokens"]) for e in deps.jobs.sent] == [(5, 5)]


def test_stream_with_include_usage(deps):
    response = create(deps, [native_stream(["Hi"], 2, 1)], prompt="a", stream=True,
                      stream_options={"include_usage": True})
    assert payloads(frames(response)) == [
        {**BASE, "usage": None, "choices": [choice("Hi", 0, None)]},
        {**BASE, "usage": None, "choices": [choice("", 0, "stop")]},
        {**BASE, "choices": [], "usage": usage(2, 1)}, DONE]


def test_stream_options_need_stream(deps):
    response = create(deps, [], prompt="a", stream_options={"include_usage": True})
    assert (response.status, response.body["error"]["param"]) == (400, "stream_options")


# --- n, stop, echo, best_of -----------------------------------------------------------------------

def test_n_choices_per_prompt_ordered_prompt_by_prompt(deps):
    answers = [native(text, 2, 1) for text in ("a1", "a2", "b1", "b2")]
    response = create(deps, answers, prompt=["a", "b"], n=2, max_tokens=5)
    assert response.body == {**BASE, "choices": [choice("a1", 0), choice("a2", 1), choice("b1", 2), choice("b2", 3)],
                             "usage": usage(8, 4)}
    assert [inputs["prompt"] for _, inputs, _ in deps.ai.calls] == ["a", "a", "b", "b"]


@pytest.mark.parametrize("stop", ["\n", ["\n"], ["END", "\n"], ["x", "y", "z", "\n"]])
def test_stop_cuts_the_text(deps, stop):
    response = create(deps, [native("first line\nsecond line", 5, 50)], prompt="a", stop=stop, max_tokens=50)
    assert response.body["choices"] == [choice("first line")]  # cut, so "stop" even at the limit
    assert "stop" not in deps.ai.calls[0][1]


def test_without_a_stop_sequence_in_the_text_it_is_unchanged(deps):
    response = create(deps, [native("no stop here", 5, 3)], prompt="a", stop=["END"])
    assert response.body["choices"] == [choice("no stop here")]


@pytest.mark.parametrize("stop", [["a", "b", "c", "d", "e"], [""], ["ok", ""]])
def test_stop_takes_up_to_four_non_empty_strings(deps, stop):
    response = create(deps, [], prompt="a", stop=stop)
    assert (response.status, response.body) == (400, error("'stop' takes up to 4 non-empty strings.", "stop"))
    assert deps.ai.calls == []


def test_echo_prepends_the_prompt(deps):
    response = create(deps, [native(" world", 2, 1), native(" there", 2, 1)], prompt=["Hello", "Hi"], echo=True)
    assert response.body["choices"] == [choice("Hello world", 0), choice("Hi there", 1)]
    assert [inputs["prompt"] for _, inputs, _ in deps.ai.calls] == ["Hello", "Hi"]


def test_echo_with_stop_cuts_only_the_completion(deps):
    response = create(deps, [native(" world. More", 2, 1)], prompt="Hello. Say", echo=True, stop=".")
    assert response.body["choices"] == [choice("Hello. Say world")]


def test_streamed_echo_comes_first(deps):
    parsed = streamed(deps, [native_stream([" wor", "ld"], 2, 2), native_stream([" there"], 2, 1)],
                      prompt=["Hello", "Hi"], echo=True)
    assert by_choice(parsed) == {
        0: [choice("Hello", 0, None), choice(" wor", 0, None), choice("ld", 0, None), choice("", 0, "stop")],
        1: [choice("Hi", 1, None), choice(" there", 1, None), choice("", 1, "stop")]}


@pytest.mark.parametrize("seed", range(6))
def test_streamed_stop_split_anywhere(deps, seed):
    chunks = native_stream(["The answer", " is 4", "2.\n\nNext", " question"], 5, 9)
    points = range(seed * 7, len("".join(chunks)), 11)  # many different places, per seed
    parsed = streamed(deps, [resplit(chunks, points)], prompt="q", stop="\n\n")
    choices = by_choice(parsed)[0]
    assert "".join(c["text"] for c in choices) == "The answer is 42."
    assert choices[-1] == choice("", 0, "stop")
    assert all(c["finish_reason"] is None for c in choices[:-1])


def test_streamed_n_with_stop_each_choice_stops_on_its_own(deps):
    parsed = streamed(deps, [native_stream(["one\ntwo"], 2, 2), native_stream(["thr", "ee", " and more"], 2, 5)],
                      prompt="q", n=2, stop=["\n", " and"])
    assert {i: ("".join(c["text"] for c in cs), cs[-1]["finish_reason"]) for i, cs in by_choice(parsed).items()} == {
        0: ("one", "stop"), 1: ("three", "stop")}


@pytest.mark.parametrize("n,best_of", [(None, 1), (2, 2), (3, 3)])
def test_best_of_equal_to_n_is_accepted(deps, n, best_of):
    count = n or 1
    response = create(deps, [native("ok")] * count, prompt="a", best_of=best_of, **({"n": n} if n else {}))
    assert (response.status, len(response.body["choices"]), len(deps.ai.calls)) == (200, count, count)


@pytest.mark.parametrize("n,best_of", [(None, 2), (2, 3), (1, 5)])
def test_best_of_over_n_is_refused(deps, n, best_of):
    response = create(deps, [], prompt="a", best_of=best_of, **({"n": n} if n else {}))
    assert (response.status, response.body) == (400, error(
        "Unsupported parameter: 'best_of' can only equal 'n': choices cannot be ranked without logprobs.",
        "best_of", "unsupported_parameter"))
    assert deps.ai.calls == []


# --- parameters no Workers AI model can honour ----------------------------------------------------

@pytest.mark.parametrize("name,value", [("suffix", "}"), ("logprobs", 1), ("logprobs", 5),
                                        ("logit_bias", {"50256": -100})])
def test_never_parameters_are_refused(deps, name, value):
    response = create(deps, prompt="a", **{name: value})
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: '{name}' is not supported with Workers AI models.", name, "unsupported_parameter"))
    assert deps.ai.calls == []


def test_the_refusal_table():
    assert set(completions.NEVER) == {"suffix", "logprobs", "logit_bias"}


@pytest.mark.parametrize("name,value", [("echo", False), ("best_of", 1), ("n", 1), ("logprobs", 0),
                                        ("logprobs", None), ("suffix", None), ("suffix", ""), ("stop", []),
                                        ("stop", None), ("logit_bias", {})])
def test_neutral_values_are_accepted(deps, name, value):
    assert create(deps, [native("ok")], prompt="a", **{name: value}).status == 200
    assert deps.ai.calls[0][1] == {"prompt": "a", "max_tokens": 4096}


@pytest.mark.parametrize("prompt", ["", [], ["a", ""]])
def test_empty_prompts_are_400(deps, prompt):
    response = create(deps, prompt=prompt)
    assert (response.status, response.body) == (400, error(
        "'prompt' must be a non-empty string or list of non-empty strings.", "prompt"))


@pytest.mark.parametrize("prompt, param", [([1, 2, 3], "prompt[0]"), ([[1, 2]], "prompt[0]"), (None, "prompt"),
                                           (5, "prompt")])
def test_token_prompts_are_400(deps, prompt, param):
    response = create(deps, prompt=prompt)
    assert (response.status, response.body["error"]["param"]) == (400, param)
