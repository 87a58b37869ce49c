"""Params of the console's routes (/v1/console/...): usage window, lists, and keys (create, limits)."""
from typing import Literal, Optional

from pydantic.v1 import StrictStr, conint, conlist, constr

from api.types.common import Params

MAX_USAGE_DAYS = 366
Label = constr(strict=True, strip_whitespace=True, min_length=1, max_length=200)
# JSON's exact integers: a limit reads back the same in JavaScript (the console) as it was set.
MAX_LIMIT = 2**53 - 1
MAX_MODELS = 100
Limit = Optional[conint(strict=True, ge=1, le=MAX_LIMIT)]


class UsageParams(Params):
    days: conint(strict=True, ge=1, le=MAX_USAGE_DAYS) = 30


class KeyCreateParams(Params):
    name: Label
    project: Optional[Label] = None  # keys of one project share usage and stored objects


class KeyLimitsParams(Params):
    """A key's limits (api.key_limits): a field left out keeps its value, null removes the limit."""
    requests_per_minute: Limit = None
    tokens_per_day: Limit = None  # UTC days
    tokens_per_month: Limit = None  # UTC months
    models: Optional[conlist(Label, min_items=1, max_items=MAX_MODELS)] = None  # names or Workers AI ids


class ConsoleListParams(Params):
    """Query of the console's lists (keys, stored responses and conversations)."""
    limit: conint(strict=True, ge=1, le=100) = 100
    order: Literal["asc", "desc"] = "desc"
    after: Optional[StrictStr] = None
