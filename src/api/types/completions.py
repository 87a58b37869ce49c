"""CompletionCreateParams (legacy completions)."""
from typing import List, Optional, Union

from pydantic.v1 import StrictBool, StrictStr, conint

from api.types.common import SamplingParams


class CompletionCreateParams(SamplingParams):
    # Token-id prompts (lists of ints) fail validation: Workers AI takes text only.
    prompt: Union[StrictStr, List[StrictStr]]
    echo: Optional[StrictBool] = None
    suffix: Optional[StrictStr] = None
    best_of: Optional[conint(strict=True, ge=1)] = None
    logprobs: Optional[conint(strict=True, ge=0, le=5)] = None
