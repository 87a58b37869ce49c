"""The event log of a streamed background run: events appended by sequence number in small
batches (a D1 write per token would cost more than the token), and read back from any point by
clients that follow the run or resume after a dropped connection."""
import asyncio
import json
from typing import AsyncIterator, Awaitable, Callable, List

from api.ports import Deps, Statement

FLUSH_EVENTS = 32  # events per flush at most …
FLUSH_SECONDS = 0.25  # … or as old as this
ROWS_PER_INSERT = 30  # 3 bound parameters a row: D1 takes 100
STATEMENT_BYTES = 90_000  # D1 takes 100 KB per statement
POLL_SECONDS = 0.25  # how often a follower looks for new events
READ_LIMIT = 200


class EventLog:
    def __init__(self, deps: Deps, run_id: str):
        self.deps, self.run_id = deps, run_id
        self.pending: List[tuple] = []
        self.flushed_at = deps.now()

    def add(self, sequence_number: int, event: dict) -> None:
        self.pending.append((self.run_id, sequence_number, json.dumps(event, separators=(",", ":"))))

    def due(self) -> bool:
        return len(self.pending) >= FLUSH_EVENTS or (
            bool(self.pending) and self.deps.now() - self.flushed_at >= FLUSH_SECONDS)

    def statements(self) -> List[Statement]:
        """The pending events as INSERTs (to write alone, or with the run's final state)."""
        statements, part, size = [], [], 0
        for row in self.pending:
            if part and (len(part) == ROWS_PER_INSERT or size + len(row[2]) > STATEMENT_BYTES):
                statements.append(_insert(part))
                part, size = [], 0
            part.append(row)
            size += len(row[2])
        if part:
            statements.append(_insert(part))
        self.pending, self.flushed_at = [], self.deps.now()
        return statements

    async def flush(self) -> None:
        statements = self.statements()
        if statements:
            await self.deps.db.batch(statements)


def _insert(rows: List[tuple]) -> Statement:
    # OR REPLACE: a retried attempt writes its own events over what a dead attempt left.
    return ("INSERT OR REPLACE INTO run_events (run_id, sequence_number, event) VALUES "
            + ", ".join(["(?, ?, ?)"] * len(rows)), [value for row in rows for value in row])


def clear_after(run_id: str, sequence_number: int) -> Statement:
    """A retried run starts over after its opening events."""
    return "DELETE FROM run_events WHERE run_id = ? AND sequence_number > ?", (run_id, sequence_number)


async def follow(deps: Deps, run_id: str, after: int, finished: Callable[[], Awaitable[bool]]) -> AsyncIterator[dict]:
    """The run's events after sequence number `after`, as they are written, until the run is
    finished and every event has been read."""
    done = False
    while True:
        rows = await deps.db.query("SELECT sequence_number, event FROM run_events WHERE run_id = ? AND "
                                   "sequence_number > ? ORDER BY sequence_number LIMIT ?", (run_id, after, READ_LIMIT))
        for row in rows:
            after = row["sequence_number"]
            yield json.loads(row["event"])
        if len(rows) == READ_LIMIT:
            continue
        if done:
            return
        done = await finished()  # read once more after the run finished: its last events
        if not done:
            await asyncio.sleep(POLL_SECONDS)
