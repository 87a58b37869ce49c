"""CompletionCreateParams (legacy completions)."""
from typing import Any, List, Optional, Union

from pydantic.v1 import StrictStr, conint

from api.types.common import SamplingParams


class CompletionCreateParams(SamplingParams):
    # Token-id prompts (lists of ints) fail validation: Workers AI takes text only.
    prompt: Union[StrictStr, List[StrictStr]]
    echo: Optional[bool] = None
    suffix: Optional[StrictStr] = None
    best_of: Optional[conint(ge=1)] = None
    logprobs: Optional[Any] = None
