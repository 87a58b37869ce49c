"""Setting a key's limits (the key_limits table, enforced by api.limits): one validated upsert,
shared by the console's keys page (api.console.admin_keys) and scripts/keys.py, which renders the
statement as SQL text for `wrangler d1 execute`. Kept out of api.limits, which every request imports."""
import json
from typing import Any, Mapping, Optional

from api.ports import Statement
from api.types.console import KeyLimitsParams
from api.validate import parse

COLUMNS = ("requests_per_minute", "tokens_per_day", "tokens_per_month", "models")


def upsert(key_id: str, fields: Mapping[str, Any], now: float) -> Optional[Statement]:
    """The statement that sets the limits named in `fields` (JSON values: positive integers, a list
    of model names, or null for no limit; a limit left out keeps its value), or None when `fields`
    names none. Bad values raise InvalidRequest naming the field, as the API answers them."""
    params = parse(KeyLimitsParams, dict(fields))
    given = [column for column in COLUMNS if column in params.__fields_set__]
    if not given:
        return None
    values = [json.dumps(params.models) if column == "models" and params.models is not None
              else getattr(params, column) for column in given]
    columns = ["key_id", *given, "updated_at"]
    updates = ", ".join(f"{column} = excluded.{column}" for column in [*given, "updated_at"])
    return (f"INSERT INTO key_limits ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT (key_id) DO UPDATE SET {updates}", (key_id, *values, int(now)))
