"""ModerationCreateParams, and the limits of POST /v1/moderations."""
from typing import List, Literal, Optional, Union

from pydantic.v1 import StrictStr

from api.types.common import Object, Params

# Each input is its own Workers AI call, all in flight at once; OpenAI documents no cap, but a
# Worker invocation on the Free plan may make only 50 subrequests, so we stay well under that.
MAX_INPUTS = 32
MAX_INPUT_CHARS = 131_072  # llama-guard-3-8b's `content` maxLength


class ModerationInputPart(Params):
    """One part of the multi-modal form: {type: "text", text} or {type: "image_url", image_url}."""
    type: Literal["text", "image_url"]
    text: Optional[StrictStr] = None
    image_url: Optional[Object] = None


class ModerationCreateParams(Params):
    # A string, a list of strings (one result each), or a list of parts (one result for them all,
    # as OpenAI's omni-moderation answers); mixing strings and parts is refused by the handler.
    # A wrong item is named by its path (api.validate follows the union branch of its type).
    input: Union[StrictStr, List[Union[StrictStr, ModerationInputPart]]]
    model: StrictStr = "omni-moderation-latest"
