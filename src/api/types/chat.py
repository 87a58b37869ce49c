"""ChatCompletionCreateParams and its message, tool and response-format types."""
from typing import List, Literal, Optional, Union

from pydantic.v1 import Field, StrictBool, StrictStr, conint, constr, validator

from api.types.common import Metadata, Object, Params, SamplingParams, at_most_16

FunctionName = constr(strict=True, regex=r"^[a-zA-Z0-9_-]{1,64}$")


class ImageURL(Params):
    url: StrictStr
    detail: Optional[Literal["auto", "low", "high"]] = None


class ContentPart(Params):
    type: StrictStr
    text: Optional[StrictStr] = None
    image_url: Optional[ImageURL] = None


class FunctionCall(Params):
    name: StrictStr
    arguments: StrictStr


class ToolCallParam(Params):
    id: StrictStr
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(Params):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Optional[Union[StrictStr, List[ContentPart]]] = None
    name: Optional[StrictStr] = None
    tool_calls: Optional[List[ToolCallParam]] = None
    tool_call_id: Optional[StrictStr] = None
    function_call: Optional[FunctionCall] = None


class FunctionDefinition(Params):
    name: FunctionName
    description: Optional[StrictStr] = None
    parameters: Optional[Object] = None
    strict: Optional[StrictBool] = None


class ToolParam(Params):
    type: Literal["function"]
    function: FunctionDefinition


class NamedFunction(Params):
    name: StrictStr


class NamedToolChoice(Params):
    type: Literal["function"]
    function: NamedFunction


class JSONSchema(Params):
    name: FunctionName
    description: Optional[StrictStr] = None
    schema_: Optional[Object] = Field(None, alias="schema")
    strict: Optional[StrictBool] = None


class ResponseFormat(Params):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: Optional[JSONSchema] = None

    @validator("json_schema", always=True)
    def schema_for_json_schema(cls, value, values):
        if values.get("type") == "json_schema" and value is None:
            raise ValueError("'json_schema' is required when type is 'json_schema'")
        return value


class ChatCompletionCreateParams(SamplingParams):
    messages: List[ChatMessage] = Field(..., min_items=1)
    max_completion_tokens: Optional[conint(strict=True, ge=1)] = None
    logprobs: Optional[StrictBool] = None
    top_logprobs: Optional[conint(strict=True, ge=0, le=20)] = None
    metadata: Optional[Metadata] = None
    store: Optional[StrictBool] = None
    tools: Optional[List[ToolParam]] = None
    tool_choice: Optional[Union[Literal["none", "auto", "required"], NamedToolChoice]] = None
    parallel_tool_calls: Optional[StrictBool] = None
    functions: Optional[List[FunctionDefinition]] = None
    function_call: Optional[Union[Literal["none", "auto"], NamedFunction]] = None
    response_format: Optional[ResponseFormat] = None
    reasoning_effort: Optional[Literal["none", "minimal", "low", "medium", "high"]] = None
    modalities: Optional[List[Literal["text", "audio"]]] = None
    audio: Optional[Object] = None
    prediction: Optional[Object] = None
    web_search_options: Optional[Object] = None
    prompt_cache_key: Optional[StrictStr] = None
    safety_identifier: Optional[StrictStr] = None
    service_tier: Optional[StrictStr] = None
    _metadata = validator("metadata", allow_reuse=True)(at_most_16)
