"""Helpers for the Assistants tests: requests with the v2 header, a second key, delivering the
queued runs to the run engine, and reading a run's logged stream events back."""
import json

import pytest

from api import auth, jobs
from api.ports import QueueMessage
from unit.support import AUTH, NOW, call, drain, frames, run

BETA = {**AUTH, "openai-beta": "assistants=v2"}
OTHER_SECRET = "sk-other-owner"
OTHER = {"authorization": f"Bearer {OTHER_SECRET}", "openai-beta": "assistants=v2"}
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture(autouse=True)
def second_key_and_deferred_work(deps):
    deps.db.conn.execute("INSERT INTO api_keys (id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                         ("key_other", "other", auth.key_hash(OTHER_SECRET), OTHER_SECRET[:10], NOW))
    yield
    run(drain(deps))


def api(deps, method: str, path: str, body=None, headers=BETA, **query):
    return call(deps, method, path, body, headers=headers, query={k: str(v) for k, v in query.items()})


def ok(response) -> dict:
    assert response.status == 200, response.body
    return response.body


def assistant(deps, **fields) -> dict:
    return ok(api(deps, "POST", "/v1/assistants", {"model": "gpt-4o", "instructions": "Be brief.", **fields}))


def thread(deps, *texts, **fields) -> dict:
    return ok(api(deps, "POST", "/v1/threads", {"messages": [{"role": "user", "content": t} for t in texts],
                                               **fields}))


def deliver(deps) -> dict:
    """Every run message queued so far, delivered once: the decisions."""
    sent, deps.runs.sent = deps.runs.sent, []
    messages = [QueueMessage(f"m{i}", body) for i, body in enumerate(sent)]
    return run(jobs.consume(messages, deps)) if messages else {}


def create_run(deps, thread_id: str, assistant_id: str, **fields) -> dict:
    return ok(api(deps, "POST", f"/v1/threads/{thread_id}/runs", {"assistant_id": assistant_id, **fields}))


def retrieve(deps, thread_id: str, run_id: str) -> dict:
    return ok(api(deps, "GET", f"/v1/threads/{thread_id}/runs/{run_id}"))


def listed(deps, path: str, **query) -> list:
    return ok(api(deps, "GET", path, **query))["data"]


def stream_events(response) -> list:
    """(event, data) of an Assistants stream, which must end with `done`."""
    parsed = []
    for text in frames(response):
        head, data = text.rstrip("\n").split("\n")
        assert head.startswith("event: ") and data.startswith("data: "), text
        parsed.append((head[len("event: "):], data[len("data: "):]))
    assert parsed[-1] == ("done", "[DONE]"), parsed[-1]
    return [(name, json.loads(data)) for name, data in parsed[:-1]]
