"""Chat completions with response_format: mapped per model family, output checked (also when the
client streams), errors as 400 (the request) or 502 (the model's output)."""
import json

import pytest

from unit.support import (DONE, LLAMA, by_choice, choices_result, content_of, create_chat, drain, error,
                          model_inputs, native, run, stream_chat)

GLM = "@cf/zai-org/glm-4.7-flash"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"  # no JSON mode
PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
          "required": ["name", "age"]}
JSON_OBJECT = {"type": "json_object"}


def json_schema(strict=None, schema=PERSON):
    envelope = {"name": "person", "schema": schema, **({} if strict is None else {"strict": strict})}
    return {"type": "json_schema", "json_schema": envelope}


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


@pytest.mark.parametrize("model,response_format,sent", [
    ("gpt-4o", JSON_OBJECT, JSON_OBJECT),
    (GLM, JSON_OBJECT, JSON_OBJECT),
    ("gpt-4o", json_schema(True), {"type": "json_schema", "json_schema": PERSON}),
    (GLM, json_schema(True),
     {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}),
])
def test_response_format_as_the_model_takes_it(deps, model, response_format, sent):
    answer = native('{"name": "Ada", "age": 36}') if model == "gpt-4o" else choices_result('{"name": "Ada", "age": 36}')
    response = create_chat(deps, answer, model=model, response_format=response_format)
    assert response.status == 200
    assert model_inputs(deps)["response_format"] == sent


def test_text_format_sends_nothing(deps):
    create_chat(deps, response_format={"type": "text"})
    assert "response_format" not in model_inputs(deps)


@pytest.mark.parametrize("response_format", [JSON_OBJECT, json_schema()])
def test_a_model_without_json_mode(deps, response_format):
    response = create_chat(deps, model=MISTRAL, response_format=response_format)
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: 'response_format' needs a JSON mode, which {MISTRAL} does not have.",
        "response_format", "unsupported_parameter"))
    assert deps.ai.calls == []


def test_native_json_mode_answers_with_an_object(deps):
    response = create_chat(deps, native({"name": "Ada", "age": 36}), response_format=json_schema(True))
    assert response.body["choices"][0]["message"]["content"] == '{"name":"Ada","age":36}'
    assert json.loads(response.body["choices"][0]["message"]["content"]) == {"name": "Ada", "age": 36}


@pytest.mark.parametrize("response_format", [JSON_OBJECT, json_schema(True), json_schema()])
def test_invalid_json_output_is_a_502(deps, response_format):
    response = create_chat(deps, native("Sure! Here it is: {name: Ada}"), response_format=response_format)
    assert (response.status, response.body["error"]["code"], response.body["error"]["type"]) == (
        502, "invalid_model_output", "server_error")
    assert response.body["error"]["message"].startswith(
        f"{LLAMA} returned invalid JSON for response_format '{response_format['type']}'")


def test_strict_schema_violation_is_a_502(deps):
    response = create_chat(deps, choices_result('{"name": "Ada"}'), model=GLM, response_format=json_schema(True))
    assert (response.status, response.body["error"]["code"]) == (502, "invalid_model_output")
    assert response.body["error"]["message"].startswith(f"{GLM} returned JSON that does not match the schema 'person'")


@pytest.mark.parametrize("strict", [None, False])
def test_without_strict_valid_json_is_enough(deps, strict):
    response = create_chat(deps, choices_result('{"name": "Ada"}'), model=GLM, response_format=json_schema(strict))
    assert (response.status, response.body["choices"][0]["message"]["content"]) == (200, '{"name": "Ada"}')


def test_json_object_must_be_an_object(deps):
    response = create_chat(deps, native("[1, 2]"), response_format=JSON_OBJECT)
    assert (response.status, response.body["error"]["code"]) == (502, "invalid_model_output")


def test_output_cut_at_the_limit_is_not_checked(deps):
    response = create_chat(deps, choices_result('{"name": "A', "length"), model=GLM, response_format=json_schema(True))
    assert (response.status, response.body["choices"][0]["finish_reason"]) == (200, "length")


@pytest.mark.parametrize("schema,why", [
    ({"type": "nope"}, "Unknown type"),
    ({"type": "object", "required": "name"}, "required must be an array"),
])
def test_an_invalid_schema_is_a_400(deps, schema, why):
    response = create_chat(deps, response_format=json_schema(True, schema))
    assert (response.status, response.body) == (400, error(
        f"Invalid JSON schema in 'response_format.json_schema.schema': {why}",
        "response_format.json_schema.schema", "invalid_value"))
    assert deps.ai.calls == []


@pytest.mark.parametrize("schema", [{"type": "object", "properties": 3}, {"type": "string", "pattern": "("}],
                         ids=["properties-not-an-object", "bad-regex"])
def test_a_malformed_schema_is_a_400_not_a_500(deps, schema):
    response = create_chat(deps, response_format=json_schema(True, schema))
    assert (response.status, response.body["error"]["param"]) == (400, "response_format.json_schema.schema")


@pytest.mark.parametrize("response_format,param", [
    ({"type": "json_schema"}, "response_format.json_schema"),
    ({"type": "xml"}, "response_format.type"),
    ({"type": "json_schema", "json_schema": {"schema": PERSON}}, "response_format.json_schema.name"),
])
def test_malformed_response_format(deps, response_format, param):
    response = create_chat(deps, response_format=response_format)
    assert (response.status, response.body["error"]["param"]) == (400, param)


# --- streaming ------------------------------------------------------------------------------------

@pytest.mark.parametrize("model,answer", [
    ("gpt-4o", native({"name": "Ada", "age": 36})),
    (GLM, choices_result('{"name": "Ada", "age": 36}')),
])
def test_streaming_runs_whole_upstream_and_streams_checked_output(deps, model, answer):
    parsed = stream_chat(deps, answer, model=model, response_format=json_schema(True))
    assert "stream" not in model_inputs(deps)
    [choices] = by_choice(parsed).values()
    assert json.loads(content_of(choices)) == {"name": "Ada", "age": 36}
    assert (choices[0]["delta"], choices[-1]["finish_reason"], parsed[-1]) == (
        {"role": "assistant", "content": ""}, "stop", DONE)
    assert all(p["object"] == "chat.completion.chunk" for p in parsed[:-1])


def test_streaming_invalid_output_fails_before_the_stream_starts(deps):
    response = create_chat(deps, choices_result("not json"), model=GLM, response_format=JSON_OBJECT, stream=True)
    assert (response.status, response.body["error"]["code"]) == (502, "invalid_model_output")


def test_streaming_with_usage(deps):
    parsed = stream_chat(deps, native('{"a": 1}', 7, 5), response_format=JSON_OBJECT,
                         stream_options={"include_usage": True})
    assert parsed[-2]["usage"] == {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
