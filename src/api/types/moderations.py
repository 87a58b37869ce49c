"""ModerationCreateParams, and the limits of POST /v1/moderations."""
from typing import Any, List, Literal, Optional, Union

from pydantic.v1 import StrictStr, validator

from api.types.common import Params

# Each input is its own Workers AI call, all in flight at once; OpenAI documents no cap, but a
# Worker invocation on the Free plan may make only 50 subrequests, so we stay well under that.
MAX_INPUTS = 32
MAX_INPUT_CHARS = 131_072  # llama-guard-3-8b's `content` maxLength


class ModerationInputPart(Params):
    """One part of the multi-modal form: {type: "text", text} or {type: "image_url", image_url}."""
    type: Literal["text", "image_url"]
    text: Optional[StrictStr] = None
    image_url: Optional[Any] = None


class ModerationCreateParams(Params):
    # A string, a list of strings (one result each), or a list of parts (one result for them all,
    # as OpenAI's omni-moderation answers); mixing strings and parts is refused by the handler.
    input: Union[StrictStr, List[Union[StrictStr, ModerationInputPart]]]
    model: StrictStr = "omni-moderation-latest"

    @validator("input", pre=True)
    def _shape(cls, value):
        # pydantic reports a failed Union by its first branch ("str type expected"): say instead
        # which forms `input` takes and which item is wrong.
        if isinstance(value, str):
            return value
        if not isinstance(value, list):
            raise ValueError("expected a string, an array of strings or an array of content parts")
        for i, item in enumerate(value):
            part = isinstance(item, dict) and item.get("type") in ("text", "image_url")
            if not (isinstance(item, str) or part and isinstance(item.get("text"), (str, type(None)))):
                raise ValueError(f"item {i} is neither a string nor a content part of type "
                                 "'text' (with a string 'text') or 'image_url'")
        return value
