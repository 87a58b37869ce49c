"""api.limits through api.app: requests per minute on the (simulated) Rate Limiting binding, token
budgets per UTC day and month from the usage totals read with the key, model lists, OpenAI's 429s
and x-ratelimit-* headers; and the wiring that makes them apply to every model and route."""
import json
import pathlib
import re
import tomllib

import pytest

from api import auth, limits
from api.limits import KeyLimits, Spend, duration
from unit.support import NOW, call, drain, error, native, post, run

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECRET = "sk-limited-0123456789"
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
HEADERS = {"authorization": f"Bearer {SECRET}"}


def add_key(deps, key_id="key_1", secret=SECRET, **limit_columns):
    run(deps.db.execute("INSERT INTO api_keys (id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                        (key_id, "limited", auth.key_hash(secret), secret[:8], 1_700_000_000)))
    if limit_columns:
        if "models" in limit_columns:
            limit_columns["models"] = json.dumps(limit_columns["models"])
        columns = ["key_id", *limit_columns, "updated_at"]
        run(deps.db.execute(f"INSERT INTO key_limits ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            (key_id, *limit_columns.values(), 1_700_000_000)))


def used_before(deps, day, tokens, key_id="key_1", model="@cf/meta/llama-3.3-70b-instruct-fp8-fast"):
    run(deps.db.execute("INSERT INTO usage_daily (key_id, model, day, requests, prompt_tokens, completion_tokens) "
                        "VALUES (?, ?, ?, 1, ?, 0)", (key_id, model, day, tokens)))


def chat(deps, *answers, body=CHAT):
    for answer in answers:
        deps.ai.answer(answer)
    response = post(deps, "/v1/chat/completions", body, headers=HEADERS)
    run(drain(deps))
    return response


def models(deps, path="/v1/models"):
    return call(deps, "GET", path, headers=HEADERS)


# --- requests per minute -------------------------------------------------------------------------

@pytest.mark.parametrize("per_minute", [1, 3, 7, 60, 1897, 4000])
def test_exactly_the_allowed_requests_fit_in_a_minute(deps, per_minute):
    add_key(deps, requests_per_minute=per_minute)
    deps.now.now = NOW + 1  # a fresh window
    admitted = sum(models(deps).status == 200 for _ in range(per_minute + 2))
    assert admitted == per_minute
    deps.now.now += 60  # the next window
    assert models(deps).status == 200


def test_over_the_rate_is_openais_429_with_retry_after(deps):
    add_key(deps, requests_per_minute=2)
    deps.now.now = NOW + 15
    assert [models(deps).status for _ in range(2)] == [200, 200]
    refused = models(deps)
    assert (refused.status, refused.body) == (429, error(
        "Rate limit reached for requests per min (RPM) of key key_1: limit 2. Please try again in 45s.",
        code="rate_limit_exceeded", type="rate_limit_error"))
    assert refused.headers["retry-after"] == "45"
    assert {k: v for k, v in refused.headers.items() if "-requests" in k} == {
        "x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "45s"}


def test_the_binding_gets_the_key_and_its_weight(deps):
    add_key(deps, requests_per_minute=60)
    models(deps)
    assert deps.limiter.calls == [("key_1", limits.RPM_SCALE // 60)]


def test_request_headers_count_down(deps):
    add_key(deps, requests_per_minute=10)
    deps.now.now = NOW + 0.5
    seen = [models(deps).headers for _ in range(3)]
    assert [h["x-ratelimit-remaining-requests"] for h in seen] == ["9", "8", "7"]
    assert {h["x-ratelimit-limit-requests"] for h in seen} == {"10"}
    assert seen[0]["x-ratelimit-reset-requests"] == "1m0s"
    assert "x-ratelimit-limit-tokens" not in seen[0]


def test_keys_without_limits_get_no_ratelimit_headers_and_no_binding_call(deps):
    add_key(deps)
    response = models(deps)
    assert not [name for name in response.headers if name.startswith("x-ratelimit")]
    assert deps.limiter.calls == []


def test_errors_carry_the_headers_too(deps):
    add_key(deps, requests_per_minute=5)
    response = call(deps, "GET", "/v1/files/file-nope", headers=HEADERS)
    assert (response.status, response.headers["x-ratelimit-remaining-requests"]) == (404, "4")


def test_public_routes_are_not_counted(deps):
    add_key(deps, requests_per_minute=1)
    call(deps, "GET", "/v1/images/content/images/x.png", headers=HEADERS)
    assert deps.limiter.calls == []


# --- token budgets -------------------------------------------------------------------------------

TODAY = "2026-01-01"  # the deps clock's day (NOW)


def test_a_spent_daily_budget_is_insufficient_quota_until_midnight_utc(deps):
    add_key(deps, tokens_per_day=100)
    used_before(deps, TODAY, 100)
    deps.now.now = NOW + 3600
    refused = chat(deps)
    assert (refused.status, refused.body) == (429, error(
        "You exceeded the token budget of key key_1: 100 tokens per day. It renews in 23h0m0s.",
        code="insufficient_quota", type="insufficient_quota"))
    assert (refused.headers["retry-after"], refused.headers["x-should-retry"]) == ("82800", "false")
    assert deps.ai.calls == []
    assert (refused.headers["x-ratelimit-limit-tokens"], refused.headers["x-ratelimit-remaining-tokens"],
            refused.headers["x-ratelimit-reset-tokens"]) == ("100", "0", "23h0m0s")


def test_the_isolate_counts_what_it_records_without_reading_d1_again(deps):
    add_key(deps, tokens_per_day=30)
    used_before(deps, TODAY, 10)
    first = chat(deps, native("Hello!", 12, 3))
    assert (first.status, first.headers["x-ratelimit-remaining-tokens"]) == (200, "5")  # 30 - 10 - 15
    assert chat(deps, native("Hi", 4, 1)).status == 200  # 5 left: admitted, then over
    assert chat(deps).status == 429


def test_budgets_are_read_with_the_key_and_refreshed_with_it(deps):
    add_key(deps, tokens_per_day=1000)
    assert models(deps).headers["x-ratelimit-remaining-tokens"] == "1000"
    used_before(deps, TODAY, 400)  # another isolate's usage reaches D1
    assert models(deps).headers["x-ratelimit-remaining-tokens"] == "1000"  # cached with the key
    deps.now.now += auth.CACHE_SECONDS
    assert models(deps).headers["x-ratelimit-remaining-tokens"] == "600"


def test_a_new_utc_day_renews_the_daily_budget_but_not_the_monthly(deps):
    add_key(deps, tokens_per_day=100, tokens_per_month=250)
    used_before(deps, TODAY, 100)
    assert chat(deps).status == 429
    deps.now.now = NOW + 86_400  # 2026-01-02: the cached key, a new day
    response = chat(deps, native("ok", 5, 5))
    assert response.status == 200
    assert (response.headers["x-ratelimit-limit-tokens"], response.headers["x-ratelimit-remaining-tokens"]) == (
        "100", "90")  # the tighter of day (90 left) and month (140 left)


def test_a_spent_monthly_budget_renews_on_the_first(deps):
    add_key(deps, tokens_per_month=50)
    used_before(deps, "2025-12-31", 500)  # last month's usage does not count
    used_before(deps, TODAY, 50)
    refused = chat(deps)
    assert refused.status == 429 and "50 tokens per month. It renews in 744h0m0s." in refused.body["error"]["message"]


def test_budgets_do_not_block_what_runs_no_model(deps):
    add_key(deps, tokens_per_day=1)
    used_before(deps, TODAY, 5)
    assert models(deps).status == 200
    assert call(deps, "GET", "/v1/files", headers=HEADERS).status == 200


def test_spend_merges_to_the_larger_count():
    spend = Spend(TODAY, 100, 300)
    spend.add(TODAY, 20)  # ours, still on the Queue
    spend.merge(TODAY, 110, 310)  # D1: another isolate's 10, not yet ours
    assert (spend.day_tokens, spend.month_tokens) == (120, 320)
    spend.merge(TODAY, 150, 350)  # D1 caught up with both
    assert (spend.day_tokens, spend.month_tokens) == (150, 350)
    spend.add("2026-02-01", 5)
    assert (spend.day, spend.day_tokens, spend.month_tokens) == ("2026-02-01", 5, 5)


# --- models --------------------------------------------------------------------------------------

def test_a_model_outside_the_list_is_403_model_not_found(deps):
    add_key(deps, models=["gpt-4o-mini"])
    refused = chat(deps)
    assert (refused.status, refused.body) == (403, error(
        "Key `key_1` does not have access to model `gpt-4o`.", "model", "model_not_found"))
    assert deps.ai.calls == []


@pytest.mark.parametrize("listed,asked", [
    ("gpt-4o", "gpt-4o"), ("gpt-4o", "gpt-4"), ("gpt-4o", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
    ("@cf/meta/llama-3.3-70b-instruct-fp8-fast", "gpt-4o")])
def test_names_of_the_same_model_are_the_same_model(deps, listed, asked):
    add_key(deps, models=[listed])
    assert chat(deps, native("ok"), body={**CHAT, "model": asked}).status == 200


def test_every_model_route_checks_the_list(deps):
    add_key(deps, models=["gpt-4o"])
    for path, body in [("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "x"}),
                       ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "x"}),
                       ("/v1/moderations", {"input": "x"}),
                       ("/v1/audio/speech", {"model": "tts-1", "input": "x", "voice": "alloy"}),
                       ("/v1/images/generations", {"prompt": "x"}),
                       ("/v1/responses", {"model": "gpt-4o-mini", "input": "x"})]:
        response = post(deps, path, body, headers=HEADERS)
        assert (path, response.status, response.body["error"]["code"]) == (path, 403, "model_not_found")
    assert deps.ai.calls == []


def test_the_model_list_shows_only_allowed_models(deps):
    add_key(deps, models=["gpt-4o", "text-embedding-3-small"])
    listed = {m["id"] for m in models(deps).body["data"]}
    assert listed == {"gpt-4o", "gpt-4", "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "text-embedding-3-small",
                      "text-embedding-ada-002", "@cf/baai/bge-base-en-v1.5"}
    assert models(deps, "/v1/models/gpt-4o-mini").status == 404
    assert models(deps, "/v1/models/gpt-4").status == 200


# Modules that may call catalog.resolve: the limits themselves, and code whose route checks the
# key's limits with limits.resolve_model before it runs (or that runs later, in the background).
RESOLVE_ALLOWED = {"api/limits.py", "api/responses/request.py"}


def test_models_are_resolved_through_the_limits():
    """Code resolving a model with catalog.resolve would skip the key's model list and budgets."""
    source = ROOT / "src"
    callers = {str(path.relative_to(source)) for path in (source / "api").rglob("*.py")
               if "catalog.resolve(" in path.read_text()}
    assert callers == RESOLVE_ALLOWED


# --- configuration -------------------------------------------------------------------------------

def test_limits_of_a_row():
    assert KeyLimits.of_row({"requests_per_minute": None, "tokens_per_day": None, "models": None}) is None
    assert KeyLimits.of_row({"requests_per_minute": 5, "models": '["a","b"]'}) == KeyLimits(5, models=("a", "b"))


def test_the_binding_in_every_environment_counts_to_the_scale():
    config = tomllib.loads((ROOT / "wrangler.toml").read_text())
    for env in (config, config["env"]["local"]):
        [binding] = env["ratelimits"]
        assert (binding["name"], binding["simple"]) == ("RPM", {"limit": limits.RPM_SCALE,
                                                                "period": limits.RPM_PERIOD})


@pytest.mark.parametrize("seconds,text", [(0.25, "250ms"), (1, "1s"), (59.2, "1m0s"), (360, "6m0s"),
                                          (47_102, "13h5m2s")])
def test_durations_read_like_openais(seconds, text):
    assert duration(seconds) == text


def test_the_headers_are_readable_by_browsers(deps):
    add_key(deps, requests_per_minute=5)
    exposed = models(deps).headers["access-control-expose-headers"]
    assert {"retry-after", "x-ratelimit-remaining-requests", "x-ratelimit-reset-tokens"} <= set(
        re.split(r",\s*", exposed))
