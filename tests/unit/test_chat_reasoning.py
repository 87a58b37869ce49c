"""Chat completions on reasoning models: reasoning_effort mapped (or refused), thinking turned off for
the legacy max_tokens, and reasoning kept out of the content — as reasoning_content, whether the
model reports it in a field or inside <think> tags, whole or streamed."""
import pytest

from unit.support import (LLAMA, by_choice, choices_result, content_of, create_chat, drain, error, model_inputs,
                          native, native_stream, oai_chunks, resplit, run, stream_chat)

GLM = "@cf/zai-org/glm-4.7-flash"
GEMMA = "@cf/google/gemma-4-26b-a4b-it"  # names its field `reasoning`
QWQ = "@cf/qwen/qwq-32b"  # native, always reasons
R1 = "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b"  # native, reasons inside <think> tags
QWEN3 = "@cf/qwen/qwen3-30b-a3b-fp8"  # `choices` shape, no reasoning


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def reasoning_of(choices):
    return "".join(c["delta"].get("reasoning_content") or "" for c in choices)


# --- reasoning_effort -----------------------------------------------------------------------------

@pytest.mark.parametrize("effort,sent", [
    ("low", {"reasoning_effort": "low"}),
    ("medium", {"reasoning_effort": "medium"}),
    ("high", {"reasoning_effort": "high"}),
    ("minimal", {"reasoning_effort": "low"}),
    ("none", {"chat_template_kwargs": {"enable_thinking": False}}),
])
@pytest.mark.parametrize("model", [GLM, GEMMA, "@cf/openai/gpt-oss-120b"])
def test_reasoning_effort_is_mapped(deps, model, effort, sent):
    create_chat(deps, model=model, reasoning_effort=effort)
    inputs = model_inputs(deps)
    assert {k: inputs[k] for k in ("reasoning_effort", "chat_template_kwargs") if k in inputs} == sent


@pytest.mark.parametrize("model", [LLAMA, QWEN3, "@cf/meta/llama-4-scout-17b-16e-instruct"])
def test_reasoning_effort_on_a_model_that_does_not_reason(deps, model):
    response = create_chat(deps, model=model, reasoning_effort="low")
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: 'reasoning_effort' cannot be used with {model}, which is not a reasoning model.",
        "reasoning_effort", "unsupported_parameter"))
    assert deps.ai.calls == []


@pytest.mark.parametrize("model", [QWQ, R1])
def test_reasoning_effort_on_a_native_reasoning_model(deps, model):
    response = create_chat(deps, model=model, reasoning_effort="high")
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: 'reasoning_effort' cannot be used with {model}, which always reasons and takes "
        "no effort setting.", "reasoning_effort", "unsupported_parameter"))


@pytest.mark.parametrize("fields,sent", [
    ({"max_tokens": 50}, {"chat_template_kwargs": {"enable_thinking": False}}),  # thinking would eat the answer
    ({"max_completion_tokens": 50}, {}),  # counts reasoning too, as on OpenAI
    ({"max_tokens": 50, "max_completion_tokens": 60}, {}),
    ({"max_tokens": 50, "reasoning_effort": "high"}, {"reasoning_effort": "high"}),
    ({}, {}),
])
def test_legacy_max_tokens_turns_thinking_off(deps, fields, sent):
    create_chat(deps, model=GLM, **fields)
    inputs = model_inputs(deps)
    assert {k: inputs[k] for k in ("reasoning_effort", "chat_template_kwargs") if k in inputs} == sent


def test_legacy_max_tokens_on_a_model_that_does_not_reason_sends_no_template_flags(deps):
    create_chat(deps, model=LLAMA, max_tokens=50)
    assert model_inputs(deps) == {"messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 50}


# --- reasoning in answers -------------------------------------------------------------------------

@pytest.mark.parametrize("model,field", [(GLM, "reasoning_content"), (GEMMA, "reasoning")])
def test_reasoning_is_exposed_apart_from_the_content(deps, model, field):
    answer = choices_result("Paris.", model=model, **{"reasoning_content": None, field: "The capital of France..."})
    response = create_chat(deps, answer, model=model)
    assert response.body["choices"][0]["message"] == {
        "role": "assistant", "content": "Paris.", "refusal": None, "reasoning_content": "The capital of France..."}


def test_no_reasoning_no_field(deps):
    message = create_chat(deps, choices_result("Paris."), model=GLM).body["choices"][0]["message"]
    assert "reasoning_content" not in message


@pytest.mark.parametrize("model,field", [(GLM, "reasoning_content"), (GEMMA, "reasoning")])
def test_streamed_reasoning_is_its_own_delta(deps, model, field):
    deltas = [{field: "Think", "content": None}, {field: "ing.", "content": None}, {"content": "Paris", field: None},
              {"content": ".", field: None}]
    choices = by_choice(stream_chat(deps, oai_chunks(deltas, "stop", model=model, completion=6), model=model))[0]
    assert [c["delta"] for c in choices[1:-1]] == [
        {"reasoning_content": "Think"}, {"reasoning_content": "ing."}, {"content": "Paris"}, {"content": "."}]


THOUGHT = "<think>\nThe user greets me.\n</think>\n\nHello!"


def test_think_tags_are_split_from_the_content(deps):
    message = create_chat(deps, native(THOUGHT), model=R1).body["choices"][0]["message"]
    assert (message["reasoning_content"], message["content"]) == ("\nThe user greets me.\n", "Hello!")


def test_text_without_think_tags_is_all_content(deps):
    message = create_chat(deps, native("Hello!"), model=R1).body["choices"][0]["message"]
    assert (message["content"], "reasoning_content" in message) == ("Hello!", False)


@pytest.mark.parametrize("seed", range(8))
def test_streamed_think_tags_split_across_chunks(deps, seed):
    chunks = native_stream(["<thi", "nk>Plan: gre", "et.</th", "ink>Hel", "lo!"], 5, 9)
    points = range(seed + 1, len("".join(chunks)), 5 + seed)
    choices = by_choice(stream_chat(deps, resplit(chunks, points), model=R1))[0]
    assert (reasoning_of(choices), content_of(choices)) == ("Plan: greet.", "Hello!")
    assert not any("<" in (c["delta"].get("content") or "") for c in choices)


def test_streamed_think_tags_as_the_model_sends_them_match_the_whole_answer(deps):
    # R1 emits the closing tag and the blank line after it as separate tokens.
    chunks = native_stream(["<think>", "\nThe user greets me.\n", "</think>", "\n\n", "Hello!"], 5, 9)
    choices = by_choice(stream_chat(deps, chunks, model=R1))[0]
    assert (reasoning_of(choices), content_of(choices)) == ("\nThe user greets me.\n", "Hello!")
