"""Per-key limits set with scripts/keys.py, through the official SDK: requests per minute on the
Rate Limiting binding (simulated by wrangler dev), token budgets, model lists; OpenAI's 429s
(RateLimitError), retry-after and x-ratelimit-* headers (with_raw_response)."""
import time

import openai
import pytest

from integration.devserver import fresh_minute, keys, sdk

HELLO = [{"role": "user", "content": "hello there"}]


def limited_key(server, *options) -> dict:
    return keys(server, "create", "--name", "limited", *options)


def test_requests_per_minute_through_the_sdk(server):
    made = limited_key(server, "--requests-per-minute", "3")
    client = sdk(server, made["key"])
    fresh_minute()
    seen = [client.models.with_raw_response.list().headers for _ in range(3)]
    assert [h["x-ratelimit-limit-requests"] for h in seen] == ["3"] * 3
    assert [h["x-ratelimit-remaining-requests"] for h in seen] == ["2", "1", "0"]
    assert all(h["x-ratelimit-reset-requests"].endswith("s") for h in seen)
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert refused.value.code == "rate_limit_exceeded"
    wait = int(refused.value.response.headers["retry-after"])
    assert abs(wait - (60 - time.time() % 60)) <= 2  # until the binding's next window
    assert int(refused.value.response.headers["retry-after"]) <= 60  # so SDKs honour it
    assert refused.value.response.headers["x-ratelimit-remaining-requests"] == "0"


def test_a_spent_token_budget_is_insufficient_quota(server):
    made = limited_key(server, "--tokens-per-day", "20")
    client = sdk(server, made["key"])
    first = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "[[words:30]] spend"}])
    assert (first.headers["x-ratelimit-limit-tokens"], first.headers["x-ratelimit-remaining-tokens"]) == ("20", "0")
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert (refused.value.code, refused.value.type) == ("insufficient_quota", "insufficient_quota")
    assert refused.value.response.headers["x-should-retry"] == "false"
    assert int(refused.value.response.headers["retry-after"]) > 0
    assert client.models.list().data  # what runs no model still works


def test_a_model_list_limits_what_the_key_can_use_and_see(server):
    made = limited_key(server, "--models", "gpt-4o-mini,text-embedding-3-small")
    client = sdk(server, made["key"])
    assert client.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices[0].message.content
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert (refused.value.status_code, refused.value.code, refused.value.param) == (403, "model_not_found", "model")
    listed = {m.id for m in client.models.list()}
    assert "gpt-4o-mini" in listed and "text-embedding-3-small" in listed and "gpt-4o" not in listed


def test_limits_are_set_and_shown_by_the_cli(server):
    made = limited_key(server, "--tokens-per-month", "1000")
    shown = keys(server, "limits", made["id"], "--requests-per-minute", "50", "--models", "gpt-4o")
    assert shown == [{"id": made["id"], "requests_per_minute": 50, "tokens_per_day": None,
                      "tokens_per_month": 1000, "models": '["gpt-4o"]'}]
    keys(server, "limits", made["id"], "--tokens-per-month", "none")
    [listed] = [k for k in keys(server, "list") if k["id"] == made["id"]]
    assert (listed["requests_per_minute"], listed["tokens_per_month"], listed["models"]) == (50, None, '["gpt-4o"]')


def test_keys_without_limits_get_no_ratelimit_headers(client):
    headers = client.models.with_raw_response.list().headers
    assert not [name for name in headers if name.startswith("x-ratelimit")]


def test_workers_ai_capacity_errors_are_429_with_retry_after(client):
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "[[fail:3040]] hi"}])
    assert (refused.value.code, refused.value.response.headers["retry-after"]) == ("rate_limit_exceeded", "2")
