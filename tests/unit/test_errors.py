"""api.errors: the OpenAI error object and the Workers AI error-code mapping."""
import pytest

from api.errors import ApiError, InvalidRequest, workers_ai_error

MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def test_body_has_all_four_keys():
    assert InvalidRequest("Bad.").body() == {"error": {"message": "Bad.", "type": "invalid_request_error",
                                                       "param": None, "code": None}}
    assert ApiError("Oops.").status == 500


@pytest.mark.parametrize("code,status,type_,error_code", [
    (5007, 404, "invalid_request_error", "model_not_found"),
    (3042, 404, "invalid_request_error", "model_not_found"),
    (3036, 429, "insufficient_quota", "insufficient_quota"),
    (3040, 429, "rate_limit_error", "rate_limit_exceeded"),
    (3006, 413, "invalid_request_error", "request_too_large"),
    (8001, 400, "invalid_request_error", "invalid_value"),
    (5004, 400, "invalid_request_error", "invalid_value"),
    (5016, 403, "invalid_request_error", "model_terms_not_accepted"),
    (5035, 403, "invalid_request_error", "model_requires_paid_plan"),
    (3007, 504, "server_error", "upstream_timeout"),
    (3008, 504, "server_error", "upstream_timeout"),
    (3000, 502, "server_error", "upstream_error"),
    (9999, 502, "server_error", "upstream_error"),
])
def test_workers_ai_codes(code, status, type_, error_code):
    exc = workers_ai_error(code, "Description", MODEL)
    assert (exc.status, exc.type, exc.code) == (status, type_, error_code)
    if error_code == "model_not_found":
        assert exc.message == f"The model `{MODEL}` is not available on Workers AI."
    else:
        assert exc.message == f"Workers AI error {code} for {MODEL}: Description"


def test_capacity_errors_say_when_to_retry_and_spent_quota_says_not_to():
    assert workers_ai_error(3040, "Capacity", MODEL).headers == {"retry-after": "2"}
    assert workers_ai_error(3036, "Neurons", MODEL).headers == {"x-should-retry": "false"}
