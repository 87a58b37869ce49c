"""A batch on the run engine under at-least-once delivery and crashes: a redelivered message does
nothing, a consumer that died mid-chunk leaves its lease to the next one, which runs only the lines
not written yet; a consumer that lost its lease writes nothing; cancel is noticed between lines;
slices hand over to fresh runs; the last attempt fails the batch; usage is recorded once per line."""
import pytest

from api import jobs, usage
from api.batches import execute, executor, queued, store
from api.ports import QueueMessage
from api.runs import lease as runs
from unit.batches.support import EchoAI, Paced, batch, chat, content, create, deliver, work
from unit.support import NOW, drain, post, run


@pytest.fixture(autouse=True)
def echo(deps, monkeypatch):
    deps.ai = EchoAI()
    monkeypatch.setattr(queued, "POLL_FIRST", 0)
    monkeypatch.setattr(queued, "POLL_MAX", 0)
    yield
    run(drain(deps))


def lines(n: int) -> list:
    return [chat(f"l{i}", f"t{i}") for i in range(n)]


def model_calls(deps) -> list:
    return [c[1]["messages"][-1]["content"] for c in deps.ai.calls if "messages" in c[1]]


def stored_usage(deps) -> list:
    """The usage events as D1 keeps them (a redelivered event inserts nothing)."""
    run(drain(deps))
    run(usage.consume([QueueMessage(str(i), e) for i, e in enumerate(deps.jobs.sent)], deps))
    return [r[0] for r in deps.db.conn.execute("SELECT id FROM usage_events ORDER BY id")]


def test_a_redelivered_message_does_nothing(deps):
    body = create(deps, lines(3)).body
    message = deps.runs.sent[0]
    work(deps)
    calls = len(deps.ai.calls)
    deps.runs.sent.append(message)
    assert work(deps) == ["ack"]
    assert len(deps.ai.calls) == calls and batch(deps, body["id"])["status"] == "completed"


def test_a_crash_mid_chunk_runs_only_the_lines_not_written(deps, monkeypatch):
    monkeypatch.setattr(execute, "FLUSH_ROWS", 1)
    body = create(deps, lines(5)).body
    deps.ai = Paced(deps.ai, delay=lambda n: 0.05 * n)
    real_batch, written, lost = deps.db.batch, [], []

    async def flaky(statements):  # D1 fails a write of lines once two are written: that delivery dies
        rows = [values[1::6] for sql, values in statements if "INTO batch_lines" in sql]
        done = [r[0] for r in deps.db.conn.execute("SELECT line FROM batch_lines")]
        if rows and not lost and len(done) >= 2:
            written.extend(done)
            lost.extend(line for part in rows for line in part)
            raise RuntimeError("D1_ERROR: simulated outage")
        await real_batch(statements)
    deps.db.batch = flaky
    assert work(deps) == ["retry", "ack"]
    done = batch(deps, body["id"])
    assert (done["status"], done["request_counts"]["completed"]) == ("completed", 5)
    assert [line["custom_id"] for line in content(deps, done["output_file_id"])] == [f"l{i}" for i in range(5)]
    calls = model_calls(deps)
    assert sorted(set(calls)) == [f"t{i}" for i in range(5)]
    assert all(calls.count(f"t{line - 1}") == 1 for line in written)  # lines written are never run again
    assert len(calls) == 5 + len(lost)  # only the lines whose write was lost ran twice
    assert stored_usage(deps) == [f"req_0004_{i}" for i in range(1, 6)]  # once per line


def test_a_consumer_that_lost_its_lease_writes_nothing(deps):
    body = create(deps, lines(2)).body
    run_id = deps.runs.sent.pop(0)["id"]
    first = run(runs.claim(deps, run_id))
    deps.now.now += runs.LEASE_SECONDS + 1
    second = run(runs.claim(deps, run_id))  # the sweep took the first for dead
    assert (first.attempt, second.attempt) == (1, 2)
    run(executor.BatchExecutor().run(first, runs.Lease(deps, first), deps))
    assert batch(deps, body["id"])["status"] == "validating" and deps.ai.calls == []  # the first did nothing
    run(executor.BatchExecutor().run(second, runs.Lease(deps, second), deps))
    assert batch(deps, body["id"])["status"] == "completed"


def test_a_consumer_of_an_earlier_slice_writes_nothing(deps, monkeypatch):
    monkeypatch.setattr(executor, "SLICE_SECONDS", 0)
    body = create(deps, lines(2)).body
    first = run(runs.claim(deps, body["id"]))  # slice 1's consumer, about to be taken for dead
    deps.now.now += runs.LEASE_SECONDS + 1
    deliver(deps)  # another consumer claims it, validates, and queues the next slice
    later = run(runs.claim(deps, body["id"]))  # a third claims that slice: attempt 1 of its round
    assert (first.attempt, runs.tries(later.attempt)) == (1, 1) and later.attempt != first.attempt
    with pytest.raises(Exception):
        run(deps.db.batch([runs.Lease(deps, first).held(), ("UPDATE batches SET cursor = 9", ())]))
    assert deps.db.conn.execute("SELECT cursor FROM batches").fetchone()[0] == 0


def test_cancel_is_noticed_between_lines(deps, monkeypatch):
    body = create(deps, lines(6)).body
    clock = deps.now

    def ticking():  # time passes as the lines go, so every lease renewal is due
        clock.now += 1
        return clock.now

    async def cancel_after_t2(text):  # the cancel request arrives while the consumer runs the lines
        if text == "t2":
            await deps.db.batch([store.stamped(body["id"], "cancelling", {"cancelling_at": NOW}),
                                 ("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (body["id"],))])
    # t3–t5 would take 10 s: they end early only if the cancel is noticed
    deps.now, deps.ai = ticking, Paced(deps.ai, cancel_after_t2, lambda n: 0.01 * n if n <= 2 else 10)
    work(deps)
    done = batch(deps, body["id"])
    assert done["status"] == "cancelled"
    assert [line["custom_id"] for line in content(deps, done["output_file_id"])] == ["l0", "l1", "l2"]
    skipped = content(deps, done["error_file_id"])
    assert [(e["custom_id"], e["response"], e["error"]["code"]) for e in skipped] == [
        (f"l{i}", None, "batch_cancelled") for i in (3, 4, 5)]
    assert done["request_counts"] == {"total": 6, "completed": 3, "failed": 0}
    assert sorted(model_calls(deps)) == ["t0", "t1", "t2"]  # t3–t5 were stopped before their answers


def test_each_slice_is_a_fresh_run(deps, monkeypatch):
    monkeypatch.setattr(executor, "SLICE_SECONDS", 0)
    monkeypatch.setattr(executor, "CHUNK_LINES", 2)
    body = create(deps, lines(5)).body
    decisions = work(deps)
    assert decisions == ["ack"] * 6  # validate, three chunks, finalizing, the files: each its own round
    done = batch(deps, body["id"])
    assert (done["status"], done["request_counts"]["completed"]) == ("completed", 5)
    assert [tuple(r) for r in deps.db.conn.execute("SELECT id, state, attempt FROM runs")] == [
        (body["id"], "done", 5 * runs.ROUND + 1)]


def test_the_last_attempt_fails_the_batch(deps):
    body = create(deps, lines(2)).body
    deps.db.conn.execute("UPDATE runs SET state = 'running', attempt = ?, lease_until = 0", (runs.MAX_ATTEMPTS,))
    deps.db.conn.commit()
    work(deps)
    done = batch(deps, body["id"])
    assert (done["status"], done["errors"]["data"][0]["code"]) == ("failed", "server_error")


def test_the_sweep_queues_a_stuck_run_again(deps):
    body = create(deps, lines(2)).body
    run(runs.claim(deps, deps.runs.sent.pop(0)["id"]))  # claimed, then its consumer died
    deps.now.now += runs.LEASE_SECONDS + 1
    run(jobs.sweep(deps))
    assert deps.runs.sent == [{"kind": "run", "id": body["id"]}]
    work(deps)
    assert batch(deps, body["id"])["status"] == "completed"


def test_a_cancel_while_validating_ends_cancelled_without_output(deps):
    body = create(deps, lines(3)).body
    post(deps, f"/v1/batches/{body['id']}/cancel", {})
    work(deps)
    done = batch(deps, body["id"])
    assert (done["status"], done["request_counts"]["completed"], "error_file_id" in done) == ("cancelled", 0, False)


def test_an_input_file_deleted_mid_batch_fails_it(deps, monkeypatch):
    monkeypatch.setattr(executor, "SLICE_SECONDS", 0)
    body = create(deps, lines(2)).body
    deliver(deps)  # validated; the next slice is queued
    del deps.blobs.objects[f"files/{body['input_file_id']}"]
    work(deps)
    done = batch(deps, body["id"])
    assert (done["status"], done["errors"]["data"][0]["message"]) == (
        "failed", "The input file was deleted while the batch ran.")
