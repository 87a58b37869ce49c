"""EmbeddingCreateParams."""
from typing import List, Literal, Optional, Union

from pydantic.v1 import Field, StrictStr, conint

from api.types.common import Params

MAX_INPUTS = 2048  # OpenAI's limit on inputs per request


class EmbeddingCreateParams(Params):
    model: StrictStr
    # Token-id inputs (lists of ints) fail validation: Workers AI embeds text only.
    input: Union[StrictStr, List[StrictStr]] = Field(...)
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Optional[conint(ge=1)] = None
    user: Optional[StrictStr] = None
