"""ResponseCreateParams and the input item, content, tool and text-format types of /v1/responses
and /v1/conversations, named as in openai-python. Items are checked one by one by their `type`
(api.responses.inputs), so that an error names the item's path."""
from typing import Any, List, Literal, Optional, Union

from pydantic.v1 import Field, StrictBool, StrictStr, conint, validator

from api.types.chat import FunctionName
from api.types.common import Metadata, Object, Params, at_most_16, number

MAX_TOOL_CALLS = 32  # built-in (file_search) calls per response: a bound on the model-call loop


class InputText(Params):
    type: Literal["input_text", "output_text", "text"]
    text: StrictStr


class InputImage(Params):
    type: Literal["input_image"]
    image_url: Optional[StrictStr] = None
    file_id: Optional[StrictStr] = None
    detail: Optional[Literal["auto", "low", "high"]] = None


class InputFile(Params):
    type: Literal["input_file"]
    file_id: Optional[StrictStr] = None
    file_data: Optional[StrictStr] = None  # base64, or a data: URL
    file_url: Optional[StrictStr] = None
    filename: Optional[StrictStr] = None


class Refusal(Params):
    type: Literal["refusal"]
    refusal: StrictStr


class Message(Params):
    type: Literal["message"] = "message"
    id: Optional[StrictStr] = None
    role: Literal["user", "system", "developer", "assistant"]
    content: Union[StrictStr, List[Object]]
    status: Optional[StrictStr] = None


class FunctionCall(Params):
    type: Literal["function_call"]
    id: Optional[StrictStr] = None
    call_id: StrictStr
    name: StrictStr
    arguments: StrictStr
    status: Optional[StrictStr] = None


class FunctionCallOutput(Params):
    type: Literal["function_call_output"]
    id: Optional[StrictStr] = None
    call_id: StrictStr
    output: Union[StrictStr, List[Object]]
    status: Optional[StrictStr] = None


class Reasoning(Params):
    type: Literal["reasoning"]
    id: Optional[StrictStr] = None
    summary: List[Object] = []
    content: Optional[List[Object]] = None
    encrypted_content: Optional[StrictStr] = None
    status: Optional[StrictStr] = None


class FileSearchCall(Params):
    type: Literal["file_search_call"]
    id: StrictStr
    queries: List[StrictStr]
    status: Optional[StrictStr] = None
    results: Optional[List[Object]] = None


class ItemReference(Params):
    type: Literal["item_reference"]
    id: StrictStr


class FunctionTool(Params):
    type: Literal["function"]
    name: FunctionName
    description: Optional[StrictStr] = None
    parameters: Optional[Object] = None
    strict: Optional[StrictBool] = None


class RankingOptions(Params):
    ranker: Optional[StrictStr] = None
    score_threshold: Optional[number(ge=0, le=1)] = None


class FileSearchTool(Params):
    type: Literal["file_search"]
    vector_store_ids: List[StrictStr] = Field(..., min_items=1)
    max_num_results: Optional[conint(strict=True, ge=1, le=50)] = None
    filters: Optional[Object] = None
    ranking_options: Optional[RankingOptions] = None


class TextFormat(Params):
    type: Literal["text", "json_object", "json_schema"]
    name: Optional[FunctionName] = None
    schema_: Optional[Object] = Field(None, alias="schema")
    description: Optional[StrictStr] = None
    strict: Optional[StrictBool] = None

    @validator("name", always=True)
    def json_schema_is_named(cls, value, values):
        if values.get("type") == "json_schema" and value is None:
            raise ValueError("a json_schema format needs a 'name'")
        return value


class TextParam(Params):
    format: Optional[TextFormat] = None
    verbosity: Optional[Literal["low", "medium", "high"]] = None


class StreamOptions(Params):
    include_obfuscation: Optional[StrictBool] = None


class ReasoningParam(Params):
    effort: Optional[Literal["none", "minimal", "low", "medium", "high"]] = None
    summary: Optional[Literal["auto", "concise", "detailed"]] = None
    generate_summary: Optional[Literal["auto", "concise", "detailed"]] = None  # its deprecated name


class ConversationRef(Params):
    id: StrictStr


class ResponseCreateParams(Params):
    model: StrictStr
    input: Optional[Union[StrictStr, List[Object]]] = None
    instructions: Optional[StrictStr] = None
    max_output_tokens: Optional[conint(strict=True, ge=16)] = None
    temperature: Optional[number(ge=0, le=2)] = None
    top_p: Optional[number(ge=0, le=1)] = None
    top_logprobs: Optional[conint(strict=True, ge=0, le=20)] = None
    text: Optional[TextParam] = None
    tools: Optional[List[Object]] = None
    tool_choice: Optional[Union[Literal["none", "auto", "required"], Object]] = None
    parallel_tool_calls: Optional[StrictBool] = None
    max_tool_calls: Optional[conint(strict=True, ge=1)] = None
    metadata: Optional[Metadata] = None
    user: Optional[StrictStr] = None
    safety_identifier: Optional[StrictStr] = Field(None, max_length=64)
    prompt_cache_key: Optional[StrictStr] = None
    prompt_cache_retention: Optional[StrictStr] = None
    truncation: Optional[Literal["auto", "disabled"]] = None
    reasoning: Optional[ReasoningParam] = None
    include: Optional[List[StrictStr]] = None
    store: Optional[StrictBool] = None
    background: Optional[StrictBool] = None
    stream: Optional[StrictBool] = None
    stream_options: Optional[StreamOptions] = None
    previous_response_id: Optional[StrictStr] = None
    conversation: Optional[Union[StrictStr, ConversationRef]] = None
    prompt: Optional[Any] = None
    service_tier: Optional[StrictStr] = None

    _metadata = validator("metadata", allow_reuse=True)(at_most_16)


class InputTokensParams(Params):
    """POST /v1/responses/input_tokens: what would be sent, without generating."""
    model: Optional[StrictStr] = None
    input: Optional[Union[StrictStr, List[Object]]] = None
    instructions: Optional[StrictStr] = None
    tools: Optional[List[Object]] = None
    previous_response_id: Optional[StrictStr] = None
    conversation: Optional[Union[StrictStr, ConversationRef]] = None
    text: Optional[TextParam] = None
    reasoning: Optional[ReasoningParam] = None
    truncation: Optional[Literal["auto", "disabled"]] = None
    tool_choice: Optional[Union[Literal["none", "auto", "required"], Object]] = None
    parallel_tool_calls: Optional[StrictBool] = None


class ListParams(Params):
    """Query of item lists (a response's input items, a conversation's items)."""
    limit: conint(strict=True, ge=1, le=100) = 20
    order: Literal["asc", "desc"] = "desc"
    after: Optional[StrictStr] = None
    include: Optional[List[StrictStr]] = None


class RetrieveParams(Params):
    """Query of GET /v1/responses/{id}."""
    stream: Optional[Literal["true", "false"]] = None
    starting_after: Optional[conint(strict=True, ge=-1)] = None
    include: Optional[List[StrictStr]] = None


class ConversationCreateParams(Params):
    items: Optional[List[Object]] = Field(None, max_items=20)
    metadata: Optional[Metadata] = None

    _metadata = validator("metadata", allow_reuse=True)(at_most_16)


class ConversationUpdateParams(Params):
    metadata: Metadata

    _metadata = validator("metadata", allow_reuse=True)(at_most_16)


class ItemCreateParams(Params):
    items: List[Object] = Field(..., min_items=1, max_items=20)
