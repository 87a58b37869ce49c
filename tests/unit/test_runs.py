"""api.runs through background responses: claims and leases under at-least-once delivery (a
redelivered message does nothing, a dead consumer's run is retried from its start and ends once,
the last attempt ends failed), cancellation between chunks, the event log, and the sweep."""
import pytest

from api import jobs
from api.ports import QueueMessage
from api.responses import background
from api.runs import lease as runs
from unit.support import drain, native, native_stream, post, run

BODY = {"model": "gpt-4o", "input": "later", "background": True}


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def deliver(deps, *ids):
    messages = [QueueMessage(f"m{i}", {"kind": runs.KIND, "id": rid}) for i, rid in enumerate(ids)]
    return run(jobs.consume(messages, deps))


def row(deps, table, rid, columns="*"):
    return dict(deps.db.conn.execute(f"SELECT {columns} FROM {table} WHERE id = ?", (rid,)).fetchone())


def create(deps, **fields):
    response = post(deps, "/v1/responses", {**BODY, **fields})
    assert response.status == 200, response.body
    return response.body


def test_a_background_response_is_queued_then_run_once(deps):
    body = create(deps)
    assert body["status"] == "queued" and deps.runs.sent == [{"kind": "run", "id": body["id"]}]
    deps.ai.answer(native_stream(["Done ", "now"], 4, 2))
    assert deliver(deps, body["id"]) == {"m0": "ack"}
    assert row(deps, "responses", body["id"], "status") == {"status": "completed"}
    assert row(deps, "runs", body["id"], "state, attempt") == {"state": "done", "attempt": 1}
    assert deliver(deps, body["id"]) == {"m0": "ack"}  # redelivered: nothing happens
    assert len(deps.ai.calls) == 1


def test_a_run_leased_by_a_live_consumer_is_left_alone(deps):
    body = create(deps)
    assert run(runs.claim(deps, body["id"])) is not None
    assert deliver(deps, body["id"]) == {"m0": "ack"} and deps.ai.calls == []


def test_a_dead_consumers_run_is_retried_from_its_start(deps):
    body = create(deps)
    claimed = run(runs.claim(deps, body["id"]))  # a consumer claims it, then dies
    assert claimed.attempt == 1
    deps.now.now += runs.LEASE_SECONDS + 1
    deps.ai.answer(native_stream(["again"], 4, 1))
    assert deliver(deps, body["id"]) == {"m0": "ack"}
    assert row(deps, "runs", body["id"], "state, attempt") == {"state": "done", "attempt": 2}
    stored = run(deps.db.query("SELECT COUNT(*) AS n FROM items WHERE parent = ? AND role = 'output'", (body["id"],)))
    assert stored == [{"n": 1}]


def test_a_consumer_that_lost_its_lease_writes_nothing(deps):
    body = create(deps)
    first = run(runs.claim(deps, body["id"]))
    deps.now.now += runs.LEASE_SECONDS + 1
    second = run(runs.claim(deps, body["id"]))
    assert second.attempt == 2
    with pytest.raises(Exception):
        run(deps.db.batch([runs.Lease(deps, first).held(), ("UPDATE responses SET status = 'completed'", ())]))
    assert row(deps, "responses", body["id"], "status") == {"status": "queued"}  # rolled back


def test_the_last_attempt_ends_failed(deps):
    body = create(deps)
    deps.db.conn.execute("UPDATE runs SET state = 'running', attempt = ?, lease_until = 0 WHERE id = ?",
                         (runs.MAX_ATTEMPTS, body["id"]))
    deps.db.conn.commit()
    assert deliver(deps, body["id"]) == {"m0": "ack"} and deps.ai.calls == []
    assert row(deps, "responses", body["id"], "status") == {"status": "failed"}


def test_a_model_failure_ends_the_response_failed_not_retried(deps):
    from api.errors import workers_ai_error
    body = create(deps)
    deps.ai.answer(workers_ai_error(5004, "bad input", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"))
    assert deliver(deps, body["id"]) == {"m0": "ack"}
    assert row(deps, "responses", body["id"], "status") == {"status": "failed"}


def test_cancel_before_the_run_starts(deps):
    body = create(deps)
    cancelled = post(deps, f"/v1/responses/{body['id']}/cancel", {})
    assert cancelled.body["status"] == "cancelled"
    assert deliver(deps, body["id"]) == {"m0": "ack"} and deps.ai.calls == []


def test_cancel_is_noticed_between_chunks(deps):
    body = create(deps)
    deps.ai.answer(native_stream([f"w{i} " for i in range(50)], 4, 50))
    real_query, renewals, clock = deps.db.query, [], deps.now

    def ticking():  # time passes as the chunks come
        clock.now += 0.05
        return clock.now
    deps.now = ticking

    async def query(sql, params=()):
        if sql.startswith("UPDATE runs SET lease_until"):
            renewals.append(sql)
            if len(renewals) == 2:  # the cancel arrives while the consumer streams (what the route writes)
                await deps.db.batch(background.cancelled(body["id"]))
        return await real_query(sql, params)
    deps.db.query = query
    assert deliver(deps, body["id"]) == {"m0": "ack"}
    assert row(deps, "responses", body["id"], "status") == {"status": "cancelled"}
    assert row(deps, "runs", body["id"], "state") == {"state": "done"}
    assert len(renewals) == 2  # stopped at the first renewal after the cancel, not at the end


def test_streamed_background_events_are_logged_in_order(deps):
    post(deps, "/v1/responses", {**BODY, "stream": True})  # a stream that follows the log (not read here)
    body = dict(deps.db.conn.execute("SELECT id FROM responses").fetchone())
    deps.ai.answer(native_stream(["a ", "b"], 4, 2))
    deliver(deps, body["id"])
    numbers = [r[0] for r in deps.db.conn.execute(
        "SELECT sequence_number FROM run_events WHERE run_id = ? ORDER BY sequence_number", (body["id"],))]
    assert numbers == list(range(len(numbers))) and len(numbers) > 5
    last = deps.db.conn.execute("SELECT event FROM run_events WHERE run_id = ? ORDER BY sequence_number DESC LIMIT 1",
                                (body["id"],)).fetchone()[0]
    assert '"type":"response.completed"' in last


def test_the_sweep_requeues_expired_leases(deps):
    body = create(deps)
    run(runs.claim(deps, body["id"]))
    deps.runs.sent.clear()
    deps.now.now += runs.LEASE_SECONDS + 1
    run(jobs.sweep(deps))
    assert deps.runs.sent == [{"kind": "run", "id": body["id"]}]


def test_the_sweep_removes_expired_files(deps):
    from fakes import MemoryBinary  # noqa: PLC0415
    deps.db.conn.execute("INSERT INTO files (id, owner, bytes, created_at, expires_at, filename, purpose, status) "
                         "VALUES ('file-old', 'local-dev', 3, 0, 10, 'a.txt', 'user_data', 'processed')")
    deps.db.conn.execute("INSERT INTO files (id, owner, bytes, created_at, expires_at, filename, purpose, status) "
                         "VALUES ('file-stuck', 'local-dev', 3, 0, NULL, 'b.txt', 'user_data', 'uploading')")
    deps.db.conn.commit()
    deps.blobs.objects["files/file-old"] = MemoryBinary(b"old")
    run(jobs.sweep(deps))
    assert deps.db.conn.execute("SELECT id FROM files").fetchall() == [] and deps.blobs.objects == {}


def test_inline_runs_go_in_wait_until(deps):
    from dataclasses import replace  # noqa: PLC0415
    deps.config = replace(deps.config, runs_inline=True)
    body = create(deps)
    assert deps.runs.sent == []
    deps.ai.answer(native("inline", 4, 1))
    run(drain(deps))
    assert row(deps, "responses", body["id"], "status") == {"status": "completed"}


def test_a_requeued_run_starts_a_new_round_with_larger_tokens(deps):
    body = create(deps)
    first = run(runs.claim(deps, body["id"]))
    run(deps.db.batch([runs.Lease(deps, first).release(), runs.requeued(body["id"], 0)]))
    second = run(runs.claim(deps, body["id"]))
    assert (runs.tries(second.attempt), second.attempt > first.attempt) == (1, True)
    with pytest.raises(Exception):  # the first round's consumer holds nothing of the second's
        run(deps.db.batch([runs.Lease(deps, first).held()]))
