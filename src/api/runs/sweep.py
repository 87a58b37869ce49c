"""The scheduled sweep of runs: a run whose lease ran out (its consumer died) or that waited
queued too long (its message lost) is queued again, or ends failed after its last attempt; no
object is left queued or in_progress forever."""
from api.ports import Deps
from api.runs import lease as runs

QUEUED_GRACE_SECONDS = 300  # a queued run not picked up by then lost its message
SWEEP_BATCH = 100


async def sweep(deps: Deps, executors: runs.Executors) -> int:
    """Handles the runs found stuck; returns how many."""
    now = int(deps.now())
    rows = await deps.db.query(
        "SELECT id, kind, owner, state, attempt FROM runs WHERE (state = 'running' AND lease_until < ?) "
        "OR (state = 'queued' AND updated_at < ?) LIMIT ?", (now, now - QUEUED_GRACE_SECONDS, SWEEP_BATCH))
    for row in rows:
        executor = executors.get(row["kind"])
        if runs.tries(row["attempt"]) >= runs.MAX_ATTEMPTS and executor is not None:
            await executor.fail(row["id"], row["owner"], deps, "The run's worker stopped repeatedly; it was given up.")
            await deps.db.execute("UPDATE runs SET state = 'done', lease_until = NULL, updated_at = ? WHERE id = ? "
                                  "AND attempt = ?", (now, row["id"], row["attempt"]))
        else:
            await deps.db.execute("UPDATE runs SET updated_at = ? WHERE id = ?", (now, row["id"]))
            await runs.enqueue(deps, row["id"], executors)
    return len(rows)
