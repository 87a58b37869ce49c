"""ApiError and its kinds; `body()` is the OpenAI error object. Only api.app turns them into responses."""
from typing import Dict, Optional


class ApiError(Exception):
    status = 500
    type = "server_error"
    code: Optional[str] = None

    def __init__(self, message: str, *, param: Optional[str] = None, code: Optional[str] = None,
                 status: Optional[int] = None, headers: Optional[Dict[str, str]] = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else type(self).code
        self.status = status or type(self).status
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type,
                          "param": self.param, "code": self.code}}


class InvalidRequest(ApiError):
    status = 400
    type = "invalid_request_error"


class UnsupportedParameter(InvalidRequest):
    code = "unsupported_parameter"

    def __init__(self, param: str, why: str = "is not supported with Workers AI models"):
        super().__init__(f"Unsupported parameter: '{param}' {why}.", param=param)


class Unauthorized(InvalidRequest):
    status = 401
    code = "invalid_api_key"


class PermissionDenied(InvalidRequest):
    status = 403


class NotFound(InvalidRequest):
    status = 404


class ModelNotFound(NotFound):
    code = "model_not_found"

    def __init__(self, model: str, why: str = "does not exist or you do not have access to it"):
        super().__init__(f"The model `{model}` {why}.", param="model")


class MethodNotAllowed(InvalidRequest):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(InvalidRequest):
    status = 413
    code = "request_too_large"


class RateLimited(ApiError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class QuotaExceeded(RateLimited):
    """A spent budget: OpenAI's insufficient_quota, which retrying soon will not cure, so SDKs are
    told not to (openai-python and openai-node honour x-should-retry)."""
    type = "insufficient_quota"
    code = "insufficient_quota"

    def __init__(self, message: str, headers=None):
        super().__init__(message, headers={**(headers or {}), "x-should-retry": "false"})


class UpstreamError(ApiError):
    """Workers AI failed or answered something we cannot use."""
    status = 502
    code = "upstream_error"


class ModelOutputError(UpstreamError):
    """The model answered, but not what the request's mode requires (a forced tool call, valid
    arguments): another try may well succeed."""


# Workers AI error codes (the "<code>: <description>" of InferenceUpstreamError) → our errors.
_WORKERS_AI = {
    5007: (ModelNotFound, None), 3042: (ModelNotFound, None),
    3036: (QuotaExceeded, None), 3040: (RateLimited, "rate_limit_exceeded"),
    3006: (PayloadTooLarge, None), 8001: (InvalidRequest, "invalid_value"),
    5004: (InvalidRequest, "invalid_value"), 5016: (PermissionDenied, "model_terms_not_accepted"),
    5035: (PermissionDenied, "model_requires_paid_plan"), 3007: (UpstreamError, "upstream_timeout"),
    3008: (UpstreamError, "upstream_timeout"),
}


CAPACITY_RETRY_SECONDS = 2  # Workers AI says "try again" for 3040 and no more; SDKs wait this long


def workers_ai_error(code: int, description: str, model: str) -> ApiError:
    kind, label = _WORKERS_AI.get(code, (UpstreamError, None))
    message = f"Workers AI error {code} for {model}: {description}"
    if kind is ModelNotFound:
        return ModelNotFound(model, "is not available on Workers AI")
    if kind is QuotaExceeded:
        return QuotaExceeded(message)
    if kind is RateLimited:
        return RateLimited(message, code=label, headers={"retry-after": str(CAPACITY_RETRY_SECONDS)})
    status = 504 if label == "upstream_timeout" else None
    return kind(message, code=label, status=status)
