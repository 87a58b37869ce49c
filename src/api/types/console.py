"""Params of the console's routes (/v1/console/...): usage window, lists, and keys (create)."""
from typing import Literal, Optional

from pydantic.v1 import StrictStr, conint, constr

from api.types.common import Params

MAX_USAGE_DAYS = 366
Label = constr(strict=True, strip_whitespace=True, min_length=1, max_length=200)


class UsageParams(Params):
    days: conint(strict=True, ge=1, le=MAX_USAGE_DAYS) = 30


class KeyCreateParams(Params):
    name: Label
    project: Optional[Label] = None  # keys of one project share usage and stored objects


class ConsoleListParams(Params):
    """Query of the console's lists (keys, stored responses and conversations)."""
    limit: conint(strict=True, ge=1, le=100) = 100
    order: Literal["asc", "desc"] = "desc"
    after: Optional[StrictStr] = None
