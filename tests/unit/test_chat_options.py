"""Chat completions: prompt caching (session affinity, cached tokens), logprobs on OpenAI-shaped
models, the context length, and models that answer a stream request with a whole result."""
import json

import pytest

from unit.support import (DONE, LLAMA, USER, by_choice, choices_result, chat_chunk, content_of, create_chat, drain,
                          error, model_inputs, native, oai_chunks, oai_call, run, sse, stream_chat, usage)

GLM = "@cf/zai-org/glm-4.7-flash"
GPT_OSS = "@cf/openai/gpt-oss-120b"
KIMI = "@cf/moonshotai/kimi-k2.6"
F = {"type": "function", "function": {"name": "f"}}
LOGPROBS = {"content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105],
                         "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105]}]}], "refusal": None}


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def options_sent(deps):
    return [options for _, _, options in deps.ai.calls]


# --- prompt caching -------------------------------------------------------------------------------

@pytest.mark.parametrize("fields,key", [
    ({"prompt_cache_key": "conv-42"}, "conv-42"),
    ({"user": "user-7"}, "user-7"),
    ({"prompt_cache_key": "conv-42", "user": "user-7"}, "conv-42"),
    ({"safety_identifier": "s-1"}, None),
    ({}, None),
])
@pytest.mark.parametrize("model", ["gpt-4o", GLM])
def test_session_affinity(deps, model, fields, key):
    create_chat(deps, model=model, **fields)
    assert options_sent(deps) == [None if key is None else {"extraHeaders": {"x-session-affinity": key}}]
    assert not {"prompt_cache_key", "user"} & model_inputs(deps).keys()


def test_session_affinity_on_every_call(deps):
    stream_chat(deps, [sse({"response": "a"}), sse(DONE)], [sse({"response": "b"}), sse(DONE)], n=2,
                prompt_cache_key="k")
    assert options_sent(deps) == [{"extraHeaders": {"x-session-affinity": "k"}}] * 2


def test_cached_tokens_are_reported(deps):
    response = create_chat(deps, choices_result("Hi", "stop", 1200, 3, cached=1024), model=GLM, prompt_cache_key="k")
    assert response.body["usage"] == {"prompt_tokens": 1200, "completion_tokens": 3, "total_tokens": 1203,
                                      "prompt_tokens_details": {"cached_tokens": 1024}}


def test_native_usage_has_no_details(deps):
    assert create_chat(deps, native("Hi", 5, 1)).body["usage"] == usage(5, 1)


def test_streamed_cached_tokens_are_reported(deps):
    trailer = {"response": "", "usage": {**usage(1200, 2), "prompt_tokens_details": {"cached_tokens": 1024}}}
    chunks = oai_chunks([{"content": "Hi"}], "stop", 1200)[:-1] + [sse(trailer), sse(DONE)]
    parsed = stream_chat(deps, chunks, model=GLM, stream_options={"include_usage": True})
    assert parsed[-2]["usage"] == {"prompt_tokens": 1200, "completion_tokens": 2, "total_tokens": 1202,
                                   "prompt_tokens_details": {"cached_tokens": 1024}}


# --- logprobs -------------------------------------------------------------------------------------

def test_logprobs_are_forwarded_and_returned(deps):
    response = create_chat(deps, choices_result("Hi", logprobs=LOGPROBS), model=GLM, logprobs=True, top_logprobs=1,
                           logit_bias={"1234": -100})
    inputs = model_inputs(deps)
    assert (inputs["logprobs"], inputs["top_logprobs"], inputs["logit_bias"]) == (True, 1, {"1234": -100})
    assert response.body["choices"][0]["logprobs"] == LOGPROBS


def test_streamed_logprobs_pass_through(deps):
    chunks = oai_chunks([{"content": "Hi"}], "stop", completion=1, logprobs=[LOGPROBS])
    choices = by_choice(stream_chat(deps, chunks, model=GLM, logprobs=True))[0]
    assert choices[1] == {"index": 0, "delta": {"content": "Hi"}, "logprobs": LOGPROBS, "finish_reason": None}


@pytest.mark.parametrize("name,value", [("logprobs", True), ("top_logprobs", 2), ("logit_bias", {"1": 5})])
@pytest.mark.parametrize("model", [LLAMA, "@cf/qwen/qwen3-30b-a3b-fp8"])
def test_logprobs_on_models_that_do_not_report_them(deps, model, name, value):
    fields = {name: value, **({"logprobs": True} if name == "top_logprobs" else {})}
    response = create_chat(deps, model=model, **fields)
    param = "logprobs" if name == "top_logprobs" else name
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: '{param}' is not supported by {model}.", param, "unsupported_parameter"))
    assert deps.ai.calls == []


@pytest.mark.parametrize("logprobs", [None, False])
def test_top_logprobs_needs_logprobs(deps, logprobs):
    response = create_chat(deps, model=GLM, top_logprobs=2, **({} if logprobs is None else {"logprobs": logprobs}))
    assert (response.status, response.body) == (400, error(
        "'top_logprobs' requires 'logprobs' to be true.", "top_logprobs"))


def test_top_logprobs_over_twenty(deps):
    response = create_chat(deps, model=GLM, logprobs=True, top_logprobs=21)
    assert (response.status, response.body["error"]["param"]) == (400, "top_logprobs")


# --- context length -------------------------------------------------------------------------------

def words(count):
    return [{"role": "user", "content": "word " * count}]  # one token each, by our estimate


@pytest.mark.parametrize("model,prompt,fields,total", [
    (LLAMA, 20000, {"max_tokens": 8000}, 28000),
    (LLAMA, 23000, {"max_completion_tokens": 1001}, 24001),
    (LLAMA, 24001, {}, 28097),  # the prompt alone is too long: our default limit cannot help
    (GLM, 131073, {}, 131073),
    (GLM, 131000, {"max_completion_tokens": 100}, 131100),
])
def test_context_length_exceeded(deps, model, prompt, fields, total):
    response = create_chat(deps, model=model, messages=words(prompt), **fields)
    limit = total - prompt
    context = 24000 if model == LLAMA else 131072
    assert (response.status, response.body) == (400, error(
        f"This model's maximum context length is {context} tokens. However, you requested about {total} tokens "
        f"({prompt} in the messages, {limit} in the completion).", "messages", "context_length_exceeded"))
    assert deps.ai.calls == []


def test_our_default_limit_is_clamped_to_what_fits(deps):
    response = create_chat(deps, model=LLAMA, messages=words(22000))
    assert (response.status, model_inputs(deps)["max_tokens"]) == (200, 2000)


def test_a_prompt_that_fits_keeps_the_default(deps):
    create_chat(deps, model=LLAMA, messages=words(19000))
    assert model_inputs(deps)["max_tokens"] == 4096


def test_an_explicit_limit_equal_to_our_default_is_not_clamped(deps):
    response = create_chat(deps, model=LLAMA, messages=words(22000), max_tokens=4096)
    assert (response.status, response.body.get("error", {}).get("code")) == (400, "context_length_exceeded")


# --- models that do not stream --------------------------------------------------------------------

@pytest.mark.parametrize("model", [GPT_OSS, KIMI])
def test_a_model_that_cannot_stream_is_called_whole_and_streamed(deps, model):
    streamed = []
    deps.ai.stream = lambda *args: streamed.append(args)
    answer = choices_result("Hello there.", "stop", 9, 3, model=model, reasoning_content="Greet back.")
    parsed = stream_chat(deps, answer, model=model, stream_options={"include_usage": True})
    assert streamed == [] and "stream" not in model_inputs(deps)
    assert parsed == [
        chat_chunk({"role": "assistant", "content": ""}, model=model, usage=None),
        chat_chunk({"reasoning_content": "Greet back."}, model=model, usage=None),
        chat_chunk({"content": "Hello there."}, model=model, usage=None),
        chat_chunk({}, "stop", model=model, usage=None),
        {"id": "chatcmpl-0002", "object": "chat.completion.chunk", "created": parsed[0]["created"], "model": model,
         "choices": [], "usage": {**usage(9, 3), "prompt_tokens_details": {"cached_tokens": 0}}},
        DONE]


def test_a_model_that_cannot_stream_streams_its_tool_calls(deps):
    answer = choices_result(None, "tool_calls", model=GPT_OSS, tool_calls=[oai_call("call_a", "f", '{"x":1}')])
    choices = by_choice(stream_chat(deps, answer, model=GPT_OSS, tools=[F]))[0]
    head = {"index": 0, **oai_call("call_a", "f", "")}
    assert [c["delta"] for c in choices[1:]] == [
        {"tool_calls": [head]}, {"tool_calls": [{"index": 0, "function": {"arguments": '{"x":1}'}}]}, {}]
    assert choices[-1]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("model,whole", [
    (GLM, choices_result("Hello there.", "stop", 9, 3, reasoning_content="Greet.")),
    (LLAMA, native("Hello there.", 9, 3)),
])
def test_a_stream_request_answered_with_a_whole_result(deps, model, whole):
    parsed = stream_chat(deps, [sse(whole), sse(DONE)], model=model, stream_options={"include_usage": True})
    choices = by_choice(parsed)[0]
    assert (content_of(choices), choices[-1]["finish_reason"]) == ("Hello there.", "stop")
    assert parsed[-2]["usage"]["completion_tokens"] == 3
    assert model_inputs(deps)["stream"] is True


def test_a_stream_request_answered_with_a_whole_tool_call(deps):
    whole = choices_result(None, "tool_calls", tool_calls=[oai_call("call_a", "f", '{"x":1}')])
    choices = by_choice(stream_chat(deps, [sse(whole), sse(DONE)], model=GLM, tools=[F]))[0]
    entries = [e for c in choices for e in c["delta"].get("tool_calls", [])]
    assert entries == [{"index": 0, **oai_call("call_a", "f", '{"x":1}')}]
    assert json.loads(entries[0]["function"]["arguments"]) == {"x": 1}
    assert choices[-1]["finish_reason"] == "tool_calls"


def test_developer_messages_and_history_reach_a_no_stream_model_unchanged(deps):
    history = [{"role": "developer", "content": "Be brief."}, USER]
    create_chat(deps, model=GPT_OSS, messages=history)
    assert model_inputs(deps)["messages"] == history


def test_n_streamed_choices_from_a_model_that_cannot_stream(deps):
    answers = [choices_result(text, "stop", 9, 2, model=GPT_OSS) for text in ("one", "two")]
    parsed = stream_chat(deps, *answers, model=GPT_OSS, n=2)
    assert {i: (content_of(c), c[-1]["finish_reason"]) for i, c in by_choice(parsed).items()} == {
        0: ("one", "stop"), 1: ("two", "stop")}
    assert len(deps.ai.calls) == 2 and all("stream" not in inputs for _, inputs, _ in deps.ai.calls)
