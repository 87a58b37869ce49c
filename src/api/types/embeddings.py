"""EmbeddingCreateParams."""
from typing import List, Literal, Optional, Union

from pydantic.v1 import Field, StrictInt, StrictStr, conint

from api.types.common import Params

MAX_INPUTS = 2048  # OpenAI's limit on inputs per request


class EmbeddingCreateParams(Params):
    model: StrictStr
    # Token ids (one list of ints, or a list of them) are decoded to text: api.token_ids.
    input: Union[StrictStr, List[StrictStr], List[StrictInt], List[List[StrictInt]]] = Field(...)
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Optional[conint(strict=True, ge=1)] = None
    user: Optional[StrictStr] = None
