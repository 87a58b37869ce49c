"""GET /v1/console/me and /v1/console/usage: who the caller is, and the daily usage of the caller's
owner — every key of its project (or the key alone, without one), never anyone else's."""
import time

from api.console import admin_keys
from api.ports import Deps
from api.types.console import UsageParams
from api.validate import parse_text
from api.web import ApiRequest, ApiResponse

# usage_daily is per key; the owner is a project (or a key without one), so its rows are those of
# every key whose owner is the caller's — plus the caller's own, for keys with no row (local dev).
USAGE = ("SELECT day, model, SUM(requests) AS requests, SUM(prompt_tokens) AS prompt_tokens, "
         "SUM(completion_tokens) AS completion_tokens FROM usage_daily WHERE day >= ? AND "
         "(key_id = ? OR key_id IN (SELECT id FROM api_keys WHERE COALESCE(project, id) = ?)) "
         "GROUP BY day, model ORDER BY day, model")


async def retrieve_console_session(req: ApiRequest, deps: Deps) -> ApiResponse:
    return ApiResponse({"object": "console.session", "key_id": req.key.id, "owner": req.key.owner,
                        "admin": await admin_keys.is_admin(req, deps)})


async def retrieve_console_usage(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_text(UsageParams, req.query)
    since = time.strftime("%Y-%m-%d", time.gmtime(deps.now() - (params.days - 1) * 86400))
    rows = await deps.db.query(USAGE, (since, req.key.id, req.key.owner))
    return ApiResponse({"object": "console.usage", "owner": req.key.owner, "since": since,
                        "data": [{"day": r["day"], "model": r["model"], "requests": r["requests"],
                                  "prompt_tokens": r["prompt_tokens"],
                                  "completion_tokens": r["completion_tokens"]} for r in rows]})
