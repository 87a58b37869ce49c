"""Params of the console's routes (/v1/console/...): usage window, lists, and keys (create)."""
from typing import Literal, Optional

from pydantic.v1 import conint, constr

from api.types.common import Params

MAX_USAGE_DAYS = 366
Label = constr(strict=True, strip_whitespace=True, min_length=1, max_length=200)


class UsageParams(Params):
    days: conint(ge=1, le=MAX_USAGE_DAYS) = 30  # query text: "7" is coerced


class KeyCreateParams(Params):
    name: Label
    project: Optional[Label] = None  # keys of one project share usage and stored objects


class ConsoleListParams(Params):
    """Query of the console's lists (keys, stored responses and conversations)."""
    limit: conint(ge=1, le=100) = 100  # query text: "2" is coerced
    order: Literal["asc", "desc"] = "desc"
    after: Optional[str] = None
