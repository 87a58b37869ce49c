"""api.generation.messages: tool-call ids for 9-character-id models, tools in each family's format, messages
converted (the request-level behaviour is in test_chat_tools.py and test_chat_vision.py)."""
import random
import re
import string

import pytest

from api.generation import messages
from api.catalog import BY_ID
from api.errors import InvalidRequest
from api.types.chat import ChatMessage, ToolParam
from unit.support import run, tool

NATIVE = BY_ID["@cf/meta/llama-3.3-70b-instruct-fp8-fast"]
LLAMA4 = BY_ID["@cf/meta/llama-4-scout-17b-16e-instruct"]
OPENAI = BY_ID["@cf/zai-org/glm-4.7-flash"]
NINE = re.compile(r"^[a-zA-Z0-9]{9}$")


# --- tool-call ids --------------------------------------------------------------------------------

@pytest.mark.parametrize("proxy_id,model_id", [
    ("call_ABCDEFGHI", "ABCDEFGHI"),
    ("call_a1b2c3d4e", "a1b2c3d4e"),
    ("ABCDEFGHI", "ABCDEFGHI"),  # already acceptable
])
def test_our_ids_map_back_exactly(proxy_id, model_id):
    assert messages.model_tool_id(proxy_id) == model_id


@pytest.mark.parametrize("proxy_id", ["call_9f8e7d6c5b4a3f2e1d0c9b8a", "toolu_01A09q90qw90lq917835lq9", "call_1",
                                      "call_ABCDEFGH", "call_ABCDEFGHIJ", "chatcmpl-tool-6f1b", "x", "",
                                      "call_abc-def_gh"])
def test_foreign_ids_are_hashed_to_nine_alphanumerics(proxy_id):
    hashed = messages.model_tool_id(proxy_id)
    assert NINE.match(hashed) and hashed == messages.model_tool_id(proxy_id)


def test_distinct_foreign_ids_stay_distinct():
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits
    ids = {f"call_{''.join(rng.choice(alphabet) for _ in range(24))}" for _ in range(5000)}
    ids |= {f"toolu_{n:020d}" for n in range(2000)} | {f"call_{n}" for n in range(2000)}
    assert len({messages.model_tool_id(i) for i in ids}) == len(ids)


# --- tools ----------------------------------------------------------------------------------------

def tools(*raw):
    return [ToolParam.parse_obj(t) for t in raw]


def test_native_tools_get_descriptions_everywhere_they_are_required():
    nested = {"type": "object", "properties": {"unit": {"type": "string"}}}
    [converted] = messages.model_tools(tools(tool("f", city={"type": "string"}, where=nested,
                                                   zone={"type": "string", "description": "IANA"})), NATIVE)
    assert converted == {"type": "function", "function": {"name": "f", "description": "f", "parameters": {
        "type": "object", "required": ["city", "where", "zone"], "properties": {
            "city": {"description": "city", "type": "string"},
            "where": {"description": "where", **nested},
            "zone": {"type": "string", "description": "IANA"}}}}}


def test_the_callers_tool_is_not_modified():
    raw = tool("f", city={"type": "string"})
    parsed = tools(raw)
    messages.model_tools(parsed, NATIVE)
    assert parsed[0].function.parameters == raw["function"]["parameters"]


@pytest.mark.parametrize("spec,strict", [(OPENAI, {"strict": True}), (NATIVE, {}), (LLAMA4, {})])
def test_strict_goes_only_to_openai_shaped_models(spec, strict):
    raw = {"type": "function", "function": {"name": "f", "description": "does f", "strict": True,
                                            "parameters": {"type": "object", "properties": {}}}}
    [converted] = messages.model_tools(tools(raw), spec)
    assert converted["function"] == {"name": "f", "description": "does f",
                                     "parameters": {"type": "object", "properties": {}}, **strict}


def test_openai_shaped_tools_keep_their_properties_as_sent():
    [converted] = messages.model_tools(tools(tool("f", city={"type": "string"})), OPENAI)
    assert converted["function"]["parameters"]["properties"] == {"city": {"type": "string"}}


def test_tool_names():
    assert messages.tool_names(tools(tool("a"), tool("b"))) == ["a", "b"]
    assert messages.tool_names(None) == []


# --- messages -------------------------------------------------------------------------------------

async def no_fetch(url, max_bytes):
    raise AssertionError("nothing to fetch")


def convert(raw, spec):
    return run(messages.model_messages([ChatMessage.parse_obj(m) for m in raw], spec, no_fetch))


@pytest.mark.parametrize("spec,role", [(NATIVE, "system"), (LLAMA4, "system"), (OPENAI, "developer")])
def test_developer_role(spec, role):
    converted = convert([{"role": "developer", "content": "Be brief."}], spec)
    assert converted.messages == [{"role": role, "content": "Be brief."}]


def test_a_tool_result_without_content_is_an_empty_string():
    converted = convert([{"role": "tool", "tool_call_id": "call_ABCDEFGHI"}], LLAMA4)
    assert converted.messages == [{"role": "tool", "content": "", "tool_call_id": "ABCDEFGHI"}]


def test_image_bytes_are_collected_only_for_image_field_models():
    uri = "data:image/png;base64,iVBORw0KGgo="
    content = [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": uri}}]
    vision = convert([{"role": "user", "content": content}], LLAMA4)
    field = convert([{"role": "user", "content": content}], BY_ID["@cf/meta/llama-3.2-11b-vision-instruct"])
    assert (vision.images, vision.messages[0]["content"][1]) == ([], {"type": "image_url", "image_url": {"url": uri}})
    assert (field.images, field.messages) == ([b"\x89PNG\r\n\x1a\n"], [{"role": "user", "content": "What?"}])


def test_a_text_part_without_text():
    with pytest.raises(InvalidRequest) as raised:
        convert([{"role": "user", "content": [{"type": "text"}]}], NATIVE)
    assert raised.value.param == "messages[0].content[0].text"
