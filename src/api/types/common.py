"""The base of every request model, strict JSON types, and the fields shared by the text-generation
endpoints, with OpenAI's ranges.

pydantic 1 coerces ("5" → 5, 1.5 → 1, true → 1, [["k", "v"]] → {"k": "v"}); OpenAI answers 400.
So every field is strict: integers are JSON integers, numbers integers or decimals, booleans JSON
booleans, strings strings, objects objects. Text from query strings and multipart forms is
converted on purpose (api.validate.parse_text), never by pydantic."""
from typing import Dict, List, Optional, Union

from pydantic.v1 import BaseModel, ConstrainedFloat, Extra, StrictBool, StrictInt, StrictStr, conint, constr, errors, validator
from pydantic.v1.fields import MAPPING_LIKE_SHAPES

MAX_KEYS = 16  # metadata and attributes: at most 16 pairs …
MAX_KEY_LENGTH = 64  # … keys up to 64 characters …
MAX_VALUE_LENGTH = 512  # … string values up to 512


class Params(BaseModel):
    class Config:
        extra = Extra.ignore  # SDKs send fields newer than us; unknown ones are not errors
        allow_mutation = False

    @classmethod
    def validate(cls, value):
        """As a field of another model: a JSON object only (pydantic 1 also takes lists of pairs)."""
        if not isinstance(value, (dict, cls)):
            raise errors.DictError()
        return super().validate(value)

    @validator("*", pre=True)
    def _objects_are_objects(cls, value, field):
        if field.shape in MAPPING_LIKE_SHAPES and value is not None and not isinstance(value, dict):
            raise errors.DictError()
        return value


class Object(dict):
    """A JSON object, whatever it holds: pydantic 1's Dict would also take a list of pairs."""

    @classmethod
    def __get_validators__(cls):
        yield cls._json_object

    @classmethod
    def _json_object(cls, value):
        if not isinstance(value, dict):
            raise errors.DictError()
        return value


class _Number(ConstrainedFloat):
    @classmethod
    def __get_validators__(cls):
        yield _json_number
        yield from super().__get_validators__()


def _json_number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise errors.FloatError()
    return value


def number(*, ge: Optional[float] = None, le: Optional[float] = None) -> type:
    """A JSON number (an integer or a decimal, never a boolean or a string) within [ge, le]."""
    return type("Number", (_Number,), {"ge": ge, "le": le, "__module__": __name__})


def at_most_16(value):
    """A validator for metadata-like objects."""
    if value is not None and len(value) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} key-value pairs are allowed")
    return value


Key = constr(strict=True, min_length=1, max_length=MAX_KEY_LENGTH)
Metadata = Dict[Key, constr(strict=True, max_length=MAX_VALUE_LENGTH)]
Penalty = number(ge=-2, le=2)


class StreamOptions(Params):
    include_usage: Optional[StrictBool] = None


class SamplingParams(Params):
    model: StrictStr
    max_tokens: Optional[conint(strict=True, ge=1)] = None
    temperature: Optional[number(ge=0, le=2)] = None
    top_p: Optional[number(ge=0, le=1)] = None
    seed: Optional[StrictInt] = None
    frequency_penalty: Optional[Penalty] = None
    presence_penalty: Optional[Penalty] = None
    stream: Optional[StrictBool] = False
    stream_options: Optional[StreamOptions] = None
    n: Optional[conint(strict=True, ge=1, le=128)] = None
    stop: Optional[Union[StrictStr, List[StrictStr]]] = None
    logit_bias: Optional[Dict[StrictStr, conint(strict=True, ge=-100, le=100)]] = None
    user: Optional[StrictStr] = None
