"""API keys made with scripts/keys.py against the running worker's local D1."""
import json
import time

import openai
import pytest

from integration.devserver import keys, sdk


def test_created_key_works_and_is_stored_hashed(server):
    made = keys(server, "create", "--name", "ci's key")
    assert made["key"].startswith("sk-wo-")
    assert [m.id for m in sdk(server, made["key"]).models.list()][:1]
    listed = [k for k in keys(server, "list") if k["id"] == made["id"]]
    assert listed[0]["name"] == "ci's key" and listed[0]["revoked_at"] is None
    assert made["key"] not in json.dumps(keys(server, "list"))  # only the prefix and hash are kept


def test_revoked_key_is_refused(server):
    made = keys(server, "create", "--name", "short-lived")
    keys(server, "revoke", made["id"])
    with pytest.raises(openai.AuthenticationError) as refused:
        sdk(server, made["key"]).models.list()
    assert refused.value.code == "invalid_api_key"


def test_unknown_key_is_refused(server):
    with pytest.raises(openai.AuthenticationError):
        sdk(server, "sk-wo-not-a-real-key").models.list()


def test_usage_per_key_reaches_the_cli_through_the_queue(server):
    made = keys(server, "create", "--name", "metered")
    reply = sdk(server, made["key"]).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "count my tokens please"}])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        rows = [r for r in keys(server, "usage") if r["key_id"] == made["id"]]
        if rows:
            break
        time.sleep(0.5)
    assert rows == [{"key_id": made["id"], "model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
                     "day": rows[0]["day"], "requests": 1,
                     "prompt_tokens": reply.usage.prompt_tokens,
                     "completion_tokens": reply.usage.completion_tokens}]
