"""POST /v1/completions through api.app: one choice per prompt, whole or streamed, and refusals."""
import pytest

from api.resources import completions
from unit.support import DONE, NOW, drain, error, frames, native, native_stream, payloads, post, run

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


def test_stream_two_prompts(deps):
    response = create(deps, [native_stream(["Hel", "lo"], 2, 2), native_stream(["By", "e", "!"], 3, 3)],
                      prompt=["a", "b"], max_tokens=3, stream=True)
    assert payloads(frames(response)) == [
        {**BASE, "choices": [choice("Hel", 0, None)]}, {**BASE, "choices": [choice("lo", 0, None)]},
        {**BASE, "choices": [choice("", 0, "stop")]},
        {**BASE, "choices": [choice("By", 1, None)]}, {**BASE, "choices": [choice("e", 1, None)]},
        {**BASE, "choices": [choice("!", 1, None)]}, {**BASE, "choices": [choice("", 1, "length")]},
        DONE]
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


@pytest.mark.parametrize("name,value", [("echo", True), ("suffix", "}"), ("best_of", 2), ("n", 2),
                                        ("stop", "\n"), ("stop", ["END"]), ("logprobs", 1),
                                        ("logit_bias", {"50256": -100})])
def test_not_yet_parameters_are_refused(deps, name, value):
    response = create(deps, prompt="a", **{name: value})
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: '{name}' is not supported by this server yet.", name, "unsupported_parameter"))
    assert deps.ai.calls == []


def test_refusals_cover_not_yet():
    assert set(completions.NOT_YET) == {"echo", "suffix", "best_of", "n", "stop", "logprobs", "logit_bias"}


@pytest.mark.parametrize("name,value", [("echo", False), ("best_of", 1), ("n", 1), ("logprobs", 0),
                                        ("logprobs", None), ("suffix", None), ("stop", [])])
def test_neutral_values_are_accepted(deps, name, value):
    assert create(deps, [native("ok")], prompt="a", **{name: value}).status == 200


@pytest.mark.parametrize("prompt", ["", [], ["a", ""]])
def test_empty_prompts_are_400(deps, prompt):
    response = create(deps, prompt=prompt)
    assert (response.status, response.body) == (400, error(
        "'prompt' must be a non-empty string or list of non-empty strings.", "prompt"))


@pytest.mark.parametrize("prompt", [[1, 2, 3], [[1, 2]], None, 5])
def test_token_prompts_are_400(deps, prompt):
    response = create(deps, prompt=prompt)
    assert (response.status, response.body["error"]["param"]) == (400, "prompt")
