"""Query and body parameters of the stored chat completions (openai-python's CompletionListParams,
CompletionUpdateParams and chat.completions.MessageListParams)."""
from typing import Literal, Optional

from pydantic.v1 import Field, StrictStr, conint, validator

from api.types.common import Metadata, Params, at_most_16


class CompletionListParams(Params):
    model: Optional[StrictStr] = None
    after: Optional[StrictStr] = None
    limit: conint(strict=True, ge=1, le=100) = 20
    order: Literal["asc", "desc"] = "asc"  # OpenAI's default for these lists


class MessageListParams(Params):
    after: Optional[StrictStr] = None
    limit: conint(strict=True, ge=1, le=100) = 20
    order: Literal["asc", "desc"] = "asc"


class CompletionUpdateParams(Params):
    metadata: Optional[Metadata] = Field(...)  # required; null clears it

    _metadata_size = validator("metadata", allow_reuse=True)(at_most_16)
