"""Assistants, threads, messages, runs and run steps in D1: rows whose `body` is the object as
OpenAI shows it (a JSON column, in R2 when large), lookups scoped to the owner (a thread's
messages, runs and steps are reached through the owned thread), writes gathered into one
transaction, and the cursor pages of every list."""
import json
from typing import Any, Awaitable, Callable, List, Optional, Sequence

from api import pages, stored
from api.errors import NotFound
from api.ports import Deps, Row, Statement

ACTIVE = ("queued", "in_progress", "requires_action", "cancelling")  # a thread has at most one such run
RUNNING = ("queued", "in_progress", "cancelling")  # the run engine still works on it
RUN_COLUMNS = "id, n, thread_id, owner, status, expires_at, metadata, body, state"


class Batch:
    """The statements of one D1 transaction, and the R2 values their rows stop pointing to,
    deleted once it commits. Large values go to R2 under a key of their own per write, so a write
    that is rolled back (a consumer that lost its lease) never changes what a committed row reads."""

    def __init__(self, deps: Deps):
        self.deps = deps
        self.statements: List[Statement] = []
        self.replaced: List[Optional[str]] = []

    def add(self, *statements: Statement) -> None:
        self.statements.extend(statements)

    async def column(self, kind: str, object_id: str, value: Any, old: Optional[str] = None) -> str:
        self.replaced.append(old)
        return await stored.column(self.deps, f"{kind}/{object_id}/{self.deps.new_id('v')}", value)

    async def commit(self) -> None:
        await self.deps.db.batch(self.statements)
        await stored.forget(self.deps, self.replaced)


def expect(run_id: str, statuses: Sequence[str]) -> Statement:
    """A statement that fails its transaction unless the run is (still) in one of `statuses`:
    a cancel, a submit or a thread deleted in between wins over a write that assumed otherwise."""
    marks = ", ".join("?" * len(statuses))
    return (f"SELECT CASE WHEN EXISTS (SELECT 1 FROM thread_runs WHERE id = ? AND status IN ({marks})) "
            "THEN 1 ELSE json('run changed') END", (run_id, *statuses))


def idle(thread_id: str) -> Statement:
    """A statement that fails its transaction while the thread has an active run."""
    return (f"SELECT CASE WHEN EXISTS (SELECT 1 FROM thread_runs WHERE thread_id = ? AND status IN "
            f"({', '.join('?' * len(ACTIVE))})) THEN json('run active') ELSE 1 END", (thread_id, *ACTIVE))


# --- reads ----------------------------------------------------------------------------------------

async def assistant(deps: Deps, owner: str, assistant_id: str, param: Optional[str] = None) -> Row:
    return await stored.owned(deps, "assistants", "id, body", assistant_id, owner, "assistant", param)


async def thread(deps: Deps, owner: str, thread_id: str, param: Optional[str] = None) -> Row:
    return await stored.owned(deps, "threads", "id, body", thread_id, owner, "thread", param)


async def message(deps: Deps, thread_id: str, message_id: str) -> Row:
    rows = await deps.db.query("SELECT id, body FROM thread_messages WHERE id = ? AND thread_id = ?",
                               (message_id, thread_id))
    if not rows:
        raise NotFound(f"No message found with id '{message_id}'.", param="message_id")
    return rows[0]


async def run(deps: Deps, thread_id: str, run_id: str) -> Row:
    rows = await deps.db.query(f"SELECT {RUN_COLUMNS} FROM thread_runs WHERE id = ? AND thread_id = ?",
                               (run_id, thread_id))
    if not rows:
        raise NotFound(f"No run found with id '{run_id}'.", param="run_id")
    return rows[0]


async def run_by_id(deps: Deps, run_id: str) -> Optional[Row]:
    rows = await deps.db.query(f"SELECT {RUN_COLUMNS} FROM thread_runs WHERE id = ?", (run_id,))
    return rows[0] if rows else None


async def active_run(deps: Deps, thread_id: str) -> Optional[Row]:
    rows = await deps.db.query(f"SELECT {RUN_COLUMNS} FROM thread_runs WHERE thread_id = ? AND status IN "
                               f"({', '.join('?' * len(ACTIVE))})", (thread_id, *ACTIVE))
    return rows[0] if rows else None


async def run_body(deps: Deps, row: Row) -> dict:
    """The Run object of a row: its metadata is the column's (a consumer writing the run never
    undoes a client's update of it)."""
    return {**await stored.load(deps, row["body"]), "metadata": json.loads(row["metadata"])}


async def step(deps: Deps, run_id: str, step_id: str) -> Row:
    rows = await deps.db.query("SELECT id, body FROM run_steps WHERE id = ? AND run_id = ?", (step_id, run_id))
    if not rows:
        raise NotFound(f"No run step found with id '{step_id}'.", param="step_id")
    return rows[0]


async def thread_messages(deps: Deps, thread_id: str, except_run: str, newest: int) -> List[dict]:
    """The thread's `newest` messages in order, but for those a run wrote itself (its context
    has them already, beside its tool calls)."""
    rows = await deps.db.query("SELECT body FROM thread_messages WHERE thread_id = ? AND run_id IS NOT ? "
                               "ORDER BY n DESC LIMIT ?", (thread_id, except_run, newest))
    return await stored.load_all(deps, [row["body"] for row in reversed(rows)])


async def page(deps: Deps, table: str, scope: tuple, noun: str, params, filters=(), columns: str = "id, n, body",
               load: Optional[Callable[[Deps, Row], Awaitable[dict]]] = None) -> dict:
    """A list page of objects kept in `body` (or made from rows by `load`), in creation order
    (`n`: ids are random, and several objects share a second)."""
    listing = pages.Listing(table, columns, [scope], noun, filters=list(filters), order_column="n")
    body = await pages.page(deps, listing, params, lambda row: row)
    body["data"] = [await (load(deps, row) if load else stored.load(deps, row["body"])) for row in body["data"]]
    return body


# --- writes ---------------------------------------------------------------------------------------

async def put_assistant(batch: Batch, owner: str, body: dict, old: Optional[Row] = None) -> None:
    text = await batch.column("assistants", body["id"], body, old and old["body"])
    batch.add(("INSERT INTO assistants (id, owner, created_at, body) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (id) DO UPDATE SET body = excluded.body", (body["id"], owner, body["created_at"], text)))


async def put_thread(batch: Batch, owner: str, body: dict, old: Optional[Row] = None) -> None:
    text = await batch.column("threads", body["id"], body, old and old["body"])
    batch.add(("INSERT INTO threads (id, owner, created_at, body) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (id) DO UPDATE SET body = excluded.body", (body["id"], owner, body["created_at"], text)))


async def put_message(batch: Batch, body: dict, old: Optional[Row] = None) -> None:
    text = await batch.column("messages", body["id"], body, old and old["body"])
    batch.add(("INSERT INTO thread_messages (id, thread_id, run_id, created_at, body) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
               (body["id"], body["thread_id"], body["run_id"], body["created_at"], text)))


async def put_step(batch: Batch, body: dict, old: Optional[str] = None) -> None:
    text = await batch.column("steps", body["id"], body, old)
    batch.add(("INSERT INTO run_steps (id, run_id, thread_id, created_at, body) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
               (body["id"], body["run_id"], body["thread_id"], body["created_at"], text)))


async def put_run(batch: Batch, owner: str, body: dict, state: dict, old: Optional[Row] = None) -> Row:
    """The run object and its internal state (api.assistants.execute); `expires_at` and `status`
    are columns too, for the one-active-run index and the expiry sweep. Returns the row as written."""
    text = await batch.column("runs", body["id"], body, old and old["body"])
    state_text = await batch.column("run_states", body["id"], state, old and old["state"])
    batch.add(("INSERT INTO thread_runs (id, thread_id, owner, created_at, status, expires_at, metadata, body, state) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
               "expires_at = excluded.expires_at, body = excluded.body, state = excluded.state",
               (body["id"], body["thread_id"], owner, body["created_at"], body["status"], body["expires_at"],
                stored.dumps(body["metadata"]), text, state_text)))
    return {**(old or {}), "id": body["id"], "thread_id": body["thread_id"], "owner": owner, "status": body["status"],
            "expires_at": body["expires_at"], "body": text, "state": state_text}


async def delete_thread(deps: Deps, thread_id: str, owner: str) -> None:
    """The thread with its messages, runs, steps, their run engine rows and event logs; the R2
    values after the rows are gone."""
    runs = "(SELECT id FROM thread_runs WHERE thread_id = ?)"
    pointers: List[Optional[str]] = []
    for sql in ("SELECT body FROM thread_messages WHERE thread_id = ? AND body LIKE 'r2:%'",
                "SELECT body FROM run_steps WHERE thread_id = ? AND body LIKE 'r2:%'",
                "SELECT body, state FROM thread_runs WHERE thread_id = ?", "SELECT body FROM threads WHERE id = ?"):
        pointers += [value for row in await deps.db.query(sql, (thread_id,)) for value in row.values()]
    await deps.db.batch([(f"DELETE FROM runs WHERE id IN {runs}", (thread_id,)),
                         (f"DELETE FROM run_events WHERE run_id IN {runs}", (thread_id,)),
                         ("DELETE FROM run_steps WHERE thread_id = ?", (thread_id,)),
                         ("DELETE FROM thread_runs WHERE thread_id = ?", (thread_id,)),
                         ("DELETE FROM thread_messages WHERE thread_id = ?", (thread_id,)),
                         ("DELETE FROM threads WHERE id = ? AND owner = ?", (thread_id, owner))])
    await stored.forget(deps, pointers)
