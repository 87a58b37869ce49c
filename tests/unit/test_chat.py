"""POST /v1/chat/completions through api.app: model inputs, refusals, whole and streamed answers,
and usage events. The features (tools, structured output, stop and n, images, reasoning, caching)
have their own test_chat_*.py modules."""
import json

import pytest

from api.errors import workers_ai_error
from api.ports import Config
from api.resources import chat
from api.generation.sampling import NATIVE_SEED_MAX
from unit.support import (DONE, LLAMA, NOW, USER, choices_result, drain, error, frames, native, native_stream,
                          oai_stream, payloads, post, run)
from unit.support import chat_chunk as chunk
from unit.support import create_chat as create
from unit.support import model_inputs as sent

LLAMA_FAST = "@cf/meta/llama-3.1-8b-instruct-fast"
GLM = "@cf/zai-org/glm-4.7-flash"


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def usage_event(model, prompt, completion, endpoint="/v1/chat/completions"):
    return {"kind": "usage", "id": "req_0001", "key_id": "local-dev", "model": model, "endpoint": endpoint,
            "prompt_tokens": prompt, "completion_tokens": completion, "created_at": NOW, "duration_ms": 0}


# --- model inputs ---------------------------------------------------------------------------------

def test_whole_response(deps):
    response = create(deps)
    assert (response.status, response.body) == (200, {
        "id": "chatcmpl-0002", "object": "chat.completion", "created": NOW, "model": LLAMA,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!", "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}})
    assert deps.ai.calls == [(LLAMA, {"messages": [USER], "max_tokens": 4096}, None)]


def test_openai_shaped_model_whole_response(deps):
    response = create(deps, choices_result("Hi there", "length", 9, 2), model=GLM, max_tokens=2)
    assert response.body["choices"][0] == {"index": 0, "logprobs": None, "finish_reason": "length",
                                           "message": {"role": "assistant", "content": "Hi there", "refusal": None}}
    assert (response.body["model"], response.body["usage"]) == (GLM, {
        "prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11, "prompt_tokens_details": {"cached_tokens": 0}})


def test_length_is_inferred_for_native_models(deps):
    assert create(deps, native("a b c", 4, 3), max_tokens=3).body["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize("model,fields,max_tokens", [
    ("gpt-4o", {"max_tokens": 100}, 100),
    ("gpt-4o", {"max_completion_tokens": 50}, 50),
    ("gpt-4o", {"max_tokens": 100, "max_completion_tokens": 50}, 50),
    ("gpt-4o", {}, 4096),
    ("@cf/qwen/qwen3-30b-a3b-fp8", {}, 4096),
    (GLM, {"max_completion_tokens": 50}, 50),
    (GLM, {}, None),
])
def test_output_limit_sent_to_the_model(deps, model, fields, max_tokens):
    assert create(deps, model=model, **fields).status == 200
    inputs = sent(deps)
    assert (inputs.get("max_tokens"), "max_tokens" in inputs) == (max_tokens, max_tokens is not None)
    assert "max_completion_tokens" not in inputs


def test_sampling_parameters_are_forwarded(deps):
    create(deps, temperature=0, top_p=0.5, frequency_penalty=-1, presence_penalty=1.5, seed=7)
    assert sent(deps) == {"messages": [USER], "max_tokens": 4096, "temperature": 0, "top_p": 0.5,
                          "frequency_penalty": -1, "presence_penalty": 1.5, "seed": 8}


@pytest.mark.parametrize("seed", [0, 1, 12345, NATIVE_SEED_MAX, NATIVE_SEED_MAX + 1, -7, 2**53])
def test_native_seed_is_mapped_into_range(deps, seed):
    assert create(deps, seed=seed).status == 200
    assert 1 <= sent(deps)["seed"] <= NATIVE_SEED_MAX


def test_seed_is_unchanged_for_openai_shaped_models(deps):
    create(deps, model=GLM, seed=0)
    assert sent(deps)["seed"] == 0


@pytest.mark.parametrize("name", ["frequency_penalty", "presence_penalty"])
def test_negative_penalty_refused_on_zero_to_two_models(deps, name):
    response = create(deps, model=LLAMA_FAST, **{name: -0.5})
    assert (response.status, response.body) == (400, error(
        f"Invalid value for '{name}': {LLAMA_FAST} accepts 0 to 2.", name, "invalid_value"))
    assert deps.ai.calls == []


@pytest.mark.parametrize("model,role", [("gpt-4o", "system"), ("@cf/qwen/qwen3-30b-a3b-fp8", "system"),
                                        (GLM, "developer")])
def test_developer_role(deps, model, role):
    create(deps, model=model, messages=[{"role": "developer", "content": "Be brief."}, USER])
    assert sent(deps)["messages"] == [{"role": role, "content": "Be brief."}, USER]


def test_text_parts_are_joined_and_null_content_is_empty(deps):
    create(deps, messages=[
        {"role": "user", "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]},
        {"role": "assistant", "content": None}, USER])
    assert sent(deps)["messages"] == [{"role": "user", "content": "first\nsecond"},
                                      {"role": "assistant", "content": ""}, USER]


def test_name_is_forwarded_to_openai_shaped_models(deps):
    create(deps, model=GLM, messages=[{**USER, "name": "ada"}])
    assert sent(deps)["messages"] == [{**USER, "name": "ada"}]


def test_a_text_part_needs_its_text(deps):
    response = create(deps, messages=[{"role": "user", "content": [{"type": "text"}]}])
    assert (response.status, response.body) == (400, error(
        "Missing required parameter: 'messages[0].content[0].text'.", "messages[0].content[0].text",
        "missing_required_parameter"))


@pytest.mark.parametrize("messages,param,why", [
    ([USER, {"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}],
     "messages[1].content[0]", "has type 'input_audio', which is not supported"),
    ([USER, {"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]}],
     "messages[1].content[0]", "has type 'file', which is not supported"),
    ([{"role": "function", "name": "f", "content": "42"}],
     "messages[0]", "uses the deprecated function calling; use tools and role 'tool'"),
    ([{"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}}],
     "messages[0]", "uses the deprecated function calling; use tools and role 'tool'"),
    ([{**USER, "name": "ada"}], "messages[0].name", f"is not supported by {LLAMA}"),
])
def test_unsupported_message_content(deps, messages, param, why):
    response = create(deps, messages=messages)
    assert (response.status, response.body) == (400, error(f"Unsupported parameter: '{param}' {why}.", param,
                                                            "unsupported_parameter"))
    assert deps.ai.calls == []


def test_a_tool_call_in_a_message_needs_its_function(deps):
    call_without_function = {"id": "c", "type": "function"}
    response = create(deps, messages=[{"role": "assistant", "content": None, "tool_calls": [call_without_function]}])
    assert (response.status, response.body) == (400, error(
        "Missing required parameter: 'messages[0].tool_calls[0].function'.", "messages[0].tool_calls[0].function",
        "missing_required_parameter"))
    assert deps.ai.calls == []


# --- parameters no Workers AI model can honour ----------------------------------------------------

ASKING = {
    "functions": [{"name": "f", "parameters": {}}],
    "function_call": {"name": "f"},
    "audio": {"voice": "alloy", "format": "wav"},
    "modalities": ["text", "audio"],
    "prediction": {"type": "content", "content": "draft"},
    "web_search_options": {},
    "service_tier": "flex",
}
MORE_ASKING = [("modalities", ["audio"]), ("service_tier", "priority"),
               ("web_search_options", {"search_context_size": "low"})]
NEUTRAL = [("n", 1), ("tool_choice", "auto"), ("tool_choice", "none"), ("response_format", {"type": "text"}),
           ("modalities", ["text"]), ("logprobs", False), ("top_logprobs", 0), ("tools", []), ("stop", None),
           ("stop", []), ("function_call", "none"), ("service_tier", "auto"), ("service_tier", "default"),
           ("logit_bias", {}), ("reasoning_effort", None), ("parallel_tool_calls", True),
           ("parallel_tool_calls", False), ("functions", [])]


def test_every_never_parameter_has_an_asking_value():
    assert ASKING.keys() == chat.NEVER.keys()


@pytest.mark.parametrize("name,value", list(ASKING.items()) + MORE_ASKING)
@pytest.mark.parametrize("model", ["gpt-4o", GLM])
def test_never_parameters_are_refused_on_every_model(deps, name, value, model):
    response = create(deps, model=model, **{name: value})
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: '{name}' is not supported with Workers AI models.", name, "unsupported_parameter"))
    assert deps.ai.calls == []


@pytest.mark.parametrize("name,value", NEUTRAL)
def test_neutral_values_are_accepted_and_not_forwarded(deps, name, value):
    assert create(deps, **{name: value}).status == 200
    assert sent(deps) == {"messages": [USER], "max_tokens": 4096}


def test_unknown_and_harmless_fields_are_accepted(deps):
    response = create(deps, store=False, metadata={"team": "a"}, parallel_tool_calls=False, user="u-1",
                      safety_identifier="s", brand_new_option={"x": 1})
    assert response.status == 200
    assert sent(deps) == {"messages": [USER], "max_tokens": 4096}


@pytest.mark.parametrize("stream", [False, None])
def test_stream_options_without_stream(deps, stream):
    body = {"stream_options": {"include_usage": True}} | ({} if stream is None else {"stream": stream})
    response = create(deps, **body)
    assert (response.status, response.body) == (400, error(
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"))


@pytest.mark.parametrize("model,status,code", [("gpt-5", 404, "model_not_found"),
                                               ("@cf/meta/llama-3.1-8b-instruct", 404, "model_not_found"),
                                               ("text-embedding-3-small", 400, "model_not_supported")])
def test_model_errors(deps, model, status, code):
    response = create(deps, model=model)
    assert (response.status, response.body["error"]["code"], response.body["error"]["param"]) == (
        status, code, "model")


def test_upstream_failure_before_any_output(deps):
    response = create(deps, workers_ai_error(3040, "Capacity temporarily exceeded, please try again.", LLAMA))
    assert (response.status, response.body) == (429, error(
        f"Workers AI error 3040 for {LLAMA}: Capacity temporarily exceeded, please try again.",
        type="rate_limit_error", code="rate_limit_exceeded"))
    run(drain(deps))
    assert deps.jobs.sent == []


# --- usage ----------------------------------------------------------------------------------------

def test_usage_event_is_queued_after_the_response(deps):
    create(deps)
    assert deps.jobs.sent == []  # deferred until after the response
    run(drain(deps))
    assert deps.jobs.sent == [usage_event(LLAMA, 12, 3)]


def test_usage_event_records_the_duration_and_the_route(deps):
    deps.ai.answer(native("Hello!", 12, 3))
    original_run = deps.ai.run

    async def slow_run(*args):
        deps.now.now += 1.5
        return await original_run(*args)
    deps.ai.run = slow_run
    post(deps, "/chat/completions", {"model": "gpt-4o", "messages": [USER]})
    run(drain(deps))
    assert deps.jobs.sent == [{**usage_event(LLAMA, 12, 3, "/v1/chat/completions"),
                               "created_at": NOW + 1, "duration_ms": 1500}]


# --- streaming ------------------------------------------------------------------------------------

def stream(deps, chunks, **body):
    response = create(deps, chunks, stream=True, **body)
    assert response.status == 200, response.body
    return response


def test_stream(deps):
    response = stream(deps, native_stream(["Hel", "lo"], prompt=5, completion=2))
    assert deps.jobs.sent == []
    assert payloads(frames(response)) == [
        chunk({"role": "assistant", "content": ""}), chunk({"content": "Hel"}), chunk({"content": "lo"}),
        chunk({}, "stop"), DONE]
    assert deps.ai.calls == [(LLAMA, {"messages": [USER], "max_tokens": 4096, "stream": True}, None)]
    run(drain(deps))
    assert deps.jobs.sent == [usage_event(LLAMA, 5, 2)]


def test_stream_frames_are_compact_sse(deps):
    raw = frames(stream(deps, native_stream(["Hi"], prompt=5, completion=1)))
    for frame in raw[:-1]:
        data = frame[len("data: "):-2]
        assert frame == f"data: {data}\n\n" and data == json.dumps(json.loads(data), separators=(",", ":"))
    assert json.loads(raw[1][len("data: "):]) == chunk({"content": "Hi"})
    assert raw[-1] == "data: [DONE]\n\n"


def test_stream_at_the_limit_finishes_with_length(deps):
    response = stream(deps, native_stream(["a", " b"], prompt=5, completion=2), max_tokens=2)
    assert payloads(frames(response))[-2] == chunk({}, "length")


def test_stream_with_include_usage(deps):
    response = stream(deps, native_stream(["Hi"], prompt=5, completion=1), stream_options={"include_usage": True})
    assert payloads(frames(response)) == [
        chunk({"role": "assistant", "content": ""}, usage=None), chunk({"content": "Hi"}, usage=None),
        chunk({}, "stop", usage=None),
        {"id": "chatcmpl-0002", "object": "chat.completion.chunk", "created": NOW, "model": LLAMA, "choices": [],
         "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}},
        DONE]


def test_stream_from_an_openai_shaped_model(deps):
    response = stream(deps, oai_stream(["The", " answer"], "stop", prompt=9, completion=2), model=GLM,
                      stream_options={"include_usage": True})
    parsed = payloads(frames(response))
    assert parsed[:4] == [chunk({"role": "assistant", "content": ""}, model=GLM, usage=None),
                          chunk({"content": "The"}, model=GLM, usage=None),
                          chunk({"content": " answer"}, model=GLM, usage=None),
                          chunk({}, "stop", model=GLM, usage=None)]
    assert parsed[4]["usage"] == {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    assert parsed[5] == DONE
    run(drain(deps))
    assert deps.jobs.sent == [usage_event(GLM, 9, 2)]
    assert sent(deps) == {"messages": [USER], "stream": True}


def test_upstream_error_mid_stream_becomes_an_error_event(deps):
    failure = workers_ai_error(3040, "Capacity temporarily exceeded, please try again.", LLAMA)
    response = stream(deps, native_stream(["Hel"])[:1] + [failure])
    assert payloads(frames(response)) == [
        chunk({"role": "assistant", "content": ""}), chunk({"content": "Hel"}),
        error(f"Workers AI error 3040 for {LLAMA}: Capacity temporarily exceeded, please try again.",
              type="rate_limit_error", code="rate_limit_exceeded")]
    assert deps.jobs.sent == []


def test_unexpected_error_mid_stream_is_a_generic_error_event_logged_with_the_request_id(deps):
    logged = []
    deps.log = logged.append
    raw = frames(stream(deps, [ConnectionResetError("socket detail")]))
    assert payloads(raw)[-1] == error(
        "The server had an error while processing your request. Sorry about that!", type="server_error")
    assert "socket detail" not in "".join(raw)
    # House style: "Anything unexpected is 500 with a generic message; log the detail with a request id."
    assert [line for line in logged if "socket detail" in line and "req_0001" in line], logged


def test_configured_alias_overrides_a_default(deps):
    deps.config = Config(model_aliases={"gpt-4o": GLM}, local_dev_key="sk-test")
    response = create(deps, choices_result("Hi"))
    assert (response.status, response.body["model"], deps.ai.calls[0][0]) == (200, GLM, GLM)


def test_usage_of_nearby_requests_goes_out_in_one_queue_batch(deps):
    for text in ("one", "two", "three"):
        deps.ai.answer(native(text, 1, 1))
        post(deps, "/v1/chat/completions", {"model": "gpt-4o", "messages": [USER]})
    assert len(deps.deferred) == 1  # one scheduled send for all three
    run(drain(deps))
    assert (deps.jobs.batches, [e["id"] for e in deps.jobs.sent]) == (1, ["req_0001", "req_0003", "req_0005"])


def test_a_failed_usage_send_is_logged_with_the_lost_ids_and_the_response_is_unaffected(deps):
    logged = []
    deps.log = logged.append

    async def broken(bodies):
        raise ConnectionError("queue down")
    deps.jobs.send_batch = broken
    deps.ai.answer(native("Hi", 1, 1))
    response = post(deps, "/v1/chat/completions", {"model": "gpt-4o", "messages": [USER]})
    run(drain(deps))
    assert response.status == 200
    assert logged == ["usage: queue send failed (ConnectionError: queue down); lost events ['req_0001']"]
