"""ChatCompletionCreateParams and its message types."""
from typing import Any, Dict, List, Literal, Optional, Union

from pydantic.v1 import Field, StrictStr, conint

from api.types.common import Params, SamplingParams


class ContentPart(Params):
    type: StrictStr
    text: Optional[StrictStr] = None


class ChatMessage(Params):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Optional[Union[StrictStr, List[ContentPart]]] = None
    name: Optional[StrictStr] = None
    tool_calls: Optional[List[Any]] = None
    tool_call_id: Optional[StrictStr] = None
    function_call: Optional[Any] = None


class ChatCompletionCreateParams(SamplingParams):
    messages: List[ChatMessage] = Field(..., min_items=1)
    max_completion_tokens: Optional[conint(ge=1)] = None
    top_logprobs: Optional[int] = None
    metadata: Optional[Dict[str, StrictStr]] = None
    store: Optional[bool] = None
    tools: Optional[List[Any]] = None
    tool_choice: Optional[Any] = None
    parallel_tool_calls: Optional[bool] = None
    functions: Optional[List[Any]] = None
    function_call: Optional[Any] = None
    response_format: Optional[Dict[str, Any]] = None
    reasoning_effort: Optional[StrictStr] = None
    modalities: Optional[List[StrictStr]] = None
    audio: Optional[Any] = None
    prediction: Optional[Any] = None
    web_search_options: Optional[Any] = None
    prompt_cache_key: Optional[StrictStr] = None
    safety_identifier: Optional[StrictStr] = None
    service_tier: Optional[StrictStr] = None
