"""api.validate: JSON bodies, pydantic errors → InvalidRequest with a JSON-path `param`."""
import pytest

from api.errors import InvalidRequest, UnsupportedParameter
from api.types.chat import ChatCompletionCreateParams
from api.validate import json_body, param_path, parse, refuse_unsupported
from api.web import ApiRequest
from unit.support import error, post

UNPARSABLE = "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload."
NOT_OBJECT = "The request body must be a JSON object."
HELLO = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("body,message", [
    (b"{not json", UNPARSABLE),
    (b'{"model": "gpt-4o",', UNPARSABLE),
    (b"\xff\xfe\x00garbage", UNPARSABLE),
    (b"", NOT_OBJECT),
    (b"null", NOT_OBJECT),
    (b"[]", NOT_OBJECT),
    (b'[{"model": "gpt-4o"}]', NOT_OBJECT),
    (b'"text"', NOT_OBJECT),
    (b"42", NOT_OBJECT),
])
def test_bad_bodies_are_400(body, message):
    with pytest.raises(InvalidRequest) as raised:
        json_body(ApiRequest("POST", "/v1/chat/completions", {}, body))
    assert (raised.value.status, raised.value.body()) == (400, error(message))


def test_bad_json_through_the_app(deps):
    response = post(deps, "/v1/chat/completions", b"{oops")
    assert (response.status, response.body) == (400, error(UNPARSABLE))


def test_body_is_json_whatever_the_content_type():
    req = ApiRequest("POST", "/", {"content-type": "application/x-www-form-urlencoded"}, b'{"a": 1}')
    assert json_body(req) == {"a": 1}


@pytest.mark.parametrize("loc,path", [
    (("model",), "model"),
    (("messages", 2, "content"), "messages[2].content"),
    (("messages", 0, "content", 1, "text"), "messages[0].content[1].text"),
    (("input", 3), "input[3]"),
    (("stream_options", "include_usage"), "stream_options.include_usage"),
    (("__root__",), ""),
    (("__root__", "messages"), "messages"),
])
def test_param_path(loc, path):
    assert param_path(loc) == path


@pytest.mark.parametrize("data,param,code,message", [
    ({"messages": HELLO}, "model", "missing_required_parameter", "Missing required parameter: 'model'."),
    ({"model": "gpt-4o"}, "messages", "missing_required_parameter", "Missing required parameter: 'messages'."),
    ({"model": "gpt-4o", "messages": [HELLO[0], {"content": "x"}]}, "messages[1].role",
     "missing_required_parameter", "Missing required parameter: 'messages[1].role'."),
    ({"model": "gpt-4o", "messages": [HELLO[0], {"role": "user", "content": 5}]}, "messages[1].content",
     "invalid_type", "Invalid type for 'messages[1].content': expected a string or an array, but got an integer "
                     "instead."),
    ({"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role",
     "invalid_value", None),
    ({"model": "gpt-4o", "messages": []}, "messages", "invalid_value",
     "Invalid value for 'messages': ensure this value has at least 1 items."),
    ({"model": "gpt-4o", "messages": HELLO, "temperature": 2.5}, "temperature", "invalid_value",
     "Invalid value for 'temperature': ensure this value is less than or equal to 2."),
    ({"model": "gpt-4o", "messages": HELLO, "max_tokens": 0}, "max_tokens", "invalid_value", None),
    ({"model": "gpt-4o", "messages": HELLO, "stream": "yes"}, "stream", "invalid_type",
     "Invalid type for 'stream': expected a boolean, but got a string instead."),
    ({"model": "gpt-4o", "messages": HELLO, "stream_options": {"include_usage": "no"}},
     "stream_options.include_usage", "invalid_type",
     "Invalid type for 'stream_options.include_usage': expected a boolean, but got a string instead."),
    ({"model": 4, "messages": HELLO}, "model", "invalid_type",
     "Invalid type for 'model': expected a string, but got an integer instead."),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
     "messages[0].content[0].text", "invalid_type",
     "Invalid type for 'messages[0].content[0].text': expected a string, but got an integer instead."),
    ({"model": "gpt-4o", "messages": HELLO, "tool_choice": {"type": "function"}}, "tool_choice.function",
     "missing_required_parameter", "Missing required parameter: 'tool_choice.function'."),
    ({"model": "gpt-4o", "messages": HELLO, "tool_choice": "any"}, "tool_choice", "invalid_value", None),
    ({"model": "gpt-4o", "messages": HELLO, "tool_choice": 1}, "tool_choice", "invalid_type",
     "Invalid type for 'tool_choice': expected a string or an object, but got an integer instead."),
    ({"model": "gpt-4o", "messages": HELLO, "stream_options": [["include_usage", True]]}, "stream_options",
     "invalid_type", "Invalid type for 'stream_options': expected an object, but got an array instead."),
    ({"model": "gpt-4o", "messages": HELLO, "metadata": [["k", "v"]]}, "metadata",
     "invalid_type", "Invalid type for 'metadata': expected an object, but got an array instead."),
    ({"model": "gpt-4o", "messages": HELLO, "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata",
     "invalid_value", "Invalid value for 'metadata': at most 16 key-value pairs are allowed."),
    ({"model": "gpt-4o", "messages": HELLO, "temperature": True}, "temperature", "invalid_type",
     "Invalid type for 'temperature': expected a number, but got a boolean instead."),
])
def test_validation_errors_name_the_parameter(data, param, code, message):
    with pytest.raises(InvalidRequest) as raised:
        parse(ChatCompletionCreateParams, data)
    exc = raised.value
    assert (exc.status, exc.param, exc.code) == (400, param, code)
    if message is not None:
        assert exc.message == message
    else:  # pydantic's wording, after our prefix
        assert exc.message.startswith(f"Invalid value for '{param}': ") and exc.message.endswith(".")


def test_nested_error_through_the_app(deps):
    body = {"model": "gpt-4o", "messages": [HELLO[0], {"role": "assistant", "content": 5}]}
    response = post(deps, "/v1/chat/completions", body)
    assert (response.status, response.body) == (400, error(
        "Invalid type for 'messages[1].content': expected a string or an array, but got an integer instead.",
        "messages[1].content", "invalid_type"))


def test_unknown_fields_are_ignored():
    params = parse(ChatCompletionCreateParams, {
        "model": "gpt-4o", "messages": [{**HELLO[0], "future_field": 1}], "brand_new_option": {"x": [1]}})
    assert params.model == "gpt-4o"
    assert not hasattr(params, "brand_new_option")


def test_refuse_unsupported_names_the_first_asking_parameter():
    params = parse(ChatCompletionCreateParams, {"model": "m", "messages": HELLO, "n": 3, "stop": "x"})
    with pytest.raises(UnsupportedParameter) as raised:
        refuse_unsupported(params, {"logit_bias": bool, "n": lambda v: v not in (None, 1), "stop": bool})
    assert raised.value.body() == error("Unsupported parameter: 'n' is not supported with Workers AI models.",
                                        "n", "unsupported_parameter")
    refuse_unsupported(params, {"logit_bias": bool})  # nothing asked for: no error
