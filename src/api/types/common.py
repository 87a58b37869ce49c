"""Fields shared by the text-generation endpoints, with OpenAI's ranges."""
from typing import Any, Dict, List, Optional, Union

from pydantic.v1 import BaseModel, Extra, StrictBool, StrictStr, confloat, conint, constr

Penalty = confloat(ge=-2, le=2)
MAX_KEYS = 16  # metadata and attributes: at most 16 pairs …
MAX_KEY_LENGTH = 64  # … keys up to 64 characters …
MAX_VALUE_LENGTH = 512  # … string values up to 512
Key = constr(strict=True, min_length=1, max_length=MAX_KEY_LENGTH)
Metadata = Dict[Key, constr(strict=True, max_length=MAX_VALUE_LENGTH)]


def at_most_16(value):
    """A validator for metadata and attributes: OpenAI allows at most 16 pairs."""
    if value is not None and len(value) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} key-value pairs are allowed")
    return value


class Params(BaseModel):
    class Config:
        extra = Extra.ignore  # SDKs send fields newer than us; unknown ones are not errors
        allow_mutation = False


class StreamOptions(Params):
    include_usage: Optional[StrictBool] = None


class SamplingParams(Params):
    model: StrictStr
    max_tokens: Optional[conint(ge=1)] = None
    temperature: Optional[confloat(ge=0, le=2)] = None
    top_p: Optional[confloat(ge=0, le=1)] = None
    seed: Optional[int] = None
    frequency_penalty: Optional[Penalty] = None
    presence_penalty: Optional[Penalty] = None
    stream: Optional[StrictBool] = False
    stream_options: Optional[StreamOptions] = None
    n: Optional[conint(ge=1, le=128)] = None
    stop: Optional[Union[StrictStr, List[StrictStr]]] = None
    logprobs: Optional[Any] = None
    logit_bias: Optional[Dict[str, Any]] = None
    user: Optional[StrictStr] = None
