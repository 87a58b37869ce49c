"""handle(req, deps): request id, CORS, routing, authentication, the handler, and the one place
where errors become OpenAI error responses; dispatch(req, deps) answers requests made inside the
worker (batch lines) the same way."""
import traceback
from typing import Union

from api import auth, limits, routes
from api.errors import ApiError, PayloadTooLarge
from api.ports import Deps
from api.sse import INTERNAL
from api.web import MAX_BODY, MAX_UPLOAD, ApiRequest, ApiResponse, StreamResponse

CORS = {"access-control-allow-origin": "*", "access-control-expose-headers": "x-request-id, retry-after, "
        "x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, "
        "x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens"}
PREFLIGHT = {"access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
             "access-control-max-age": "86400"}


async def handle(req: ApiRequest, deps: Deps) -> Union[ApiResponse, StreamResponse]:
    req.id = deps.new_id("req_")
    req.received_at = deps.now()
    if req.method == "OPTIONS":
        response = ApiResponse(None, 204, {
            **PREFLIGHT,
            "access-control-allow-headers": req.headers.get("access-control-request-headers", "*"),
        })
    else:
        response = await _answer(req, deps, authenticate=True)
    response.headers.update(limits.headers(req, deps))
    response.headers.update(CORS)
    response.headers["x-request-id"] = req.id
    return response


async def dispatch(req: ApiRequest, deps: Deps) -> Union[ApiResponse, StreamResponse]:
    """A request made inside the worker on behalf of `req.key` (already known, with its limits),
    its id and time already set: the same route, handler and errors as over HTTP. It is not counted
    against the key's requests per minute (the request that made it was); its model and tokens are."""
    return await _answer(req, deps, authenticate=False)


async def _answer(req: ApiRequest, deps: Deps, authenticate: bool) -> Union[ApiResponse, StreamResponse]:
    try:
        route, req.params = routes.match(req.method, req.path)
        req.route = route.template
        if authenticate and not route.public:
            req.key = await auth.authenticate(req, deps)
            await limits.admit(req, deps)
        if req.oversized:
            limit = MAX_UPLOAD if req.form is not None else MAX_BODY
            raise PayloadTooLarge(f"Request body too large: the limit is {limit} bytes.")
        return await route.handler(req, deps)
    except ApiError as exc:
        return ApiResponse(exc.body(), exc.status, dict(exc.headers))
    except Exception:  # noqa: BLE001 - never a traceback to the client; the log has it
        deps.log(f"{req.id} {req.method} {req.path} failed:\n{traceback.format_exc()}")
        return ApiResponse(INTERNAL.body(), 500)
