"""Usage accounting end to end: responses → Queue → consumer → D1 (usage_events and the
usage_daily rollup), polled in the worker's local D1 with a timeout.

Only this module uses its model, so the daily totals for it are exactly what these requests sent."""
import time

MODEL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
TIMEOUT = 20.0


def poll(query, done, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        rows = query()
        if done(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


def test_usage_reaches_d1_through_the_queue(client, d1):
    whole = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "count these words for me"}])
    with client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=[{"role": "user", "content": "[[words:9]] stream and count"}],
            stream=True, stream_options={"include_usage": True}) as response:
        stream_id = response.headers["x-request-id"]
        streamed_usage = list(response.parse())[-1].usage
    legacy = client.completions.with_raw_response.create(model=MODEL, prompt=["one", "two three"])

    expected = {
        whole.headers["x-request-id"]: ("/v1/chat/completions", whole.parse().usage),
        stream_id: ("/v1/chat/completions", streamed_usage),
        legacy.headers["x-request-id"]: ("/v1/completions", legacy.parse().usage),
    }
    assert [(u.prompt_tokens, u.completion_tokens) for _, u in expected.values()] == [(5, 6), (4, 9), (3, 5)]

    daily = poll(lambda: d1(
        "SELECT SUM(requests) AS requests, SUM(prompt_tokens) AS prompt_tokens, "
        f"SUM(completion_tokens) AS completion_tokens FROM usage_daily "
        f"WHERE key_id = 'local-dev' AND model = '{MODEL}'"),
        lambda rows: rows and rows[0]["requests"] == len(expected))
    assert daily == [{"requests": 3, "prompt_tokens": 5 + 4 + 3, "completion_tokens": 6 + 9 + 5}]

    ids = ", ".join(f"'{request_id}'" for request_id in expected)
    events = d1("SELECT id, key_id, model, endpoint, prompt_tokens, completion_tokens, created_at, "
                f"duration_ms FROM usage_events WHERE id IN ({ids})")
    assert {e["id"]: (e["endpoint"], e["prompt_tokens"], e["completion_tokens"]) for e in events} == {
        request_id: (endpoint, u.prompt_tokens, u.completion_tokens)
        for request_id, (endpoint, u) in expected.items()}
    now = time.time()
    for event in events:
        assert (event["key_id"], event["model"]) == ("local-dev", MODEL)
        assert now - 120 < event["created_at"] <= now + 1
        assert event["duration_ms"] >= 0
