"""Batch rows in D1: the Batch object of a row, owner-scoped reads and pages, and the statements
that move a batch along (status, and times stamped into its body with json_set)."""
import json
from dataclasses import dataclass
from typing import List, Optional, Sequence

from api import pages, stored
from api.errors import NotFound
from api.ports import Deps, Row, Statement

COLUMNS = "id, owner, created_at, status, body, total, completed, failed, plan, cursor"
FINISHED = ("completed", "failed", "expired", "cancelled")


@dataclass
class Plan:
    """The validated input: chunk k holds the lines from byte offsets[k] (line numbers[k] on) to
    the next chunk's offset, or `end`."""
    offsets: List[int]
    numbers: List[int]
    end: int

    def bounds(self, index: int):
        stop = self.offsets[index + 1] if index + 1 < len(self.offsets) else self.end
        return self.offsets[index], stop, self.numbers[index]

    def dumps(self) -> str:
        return stored.dumps({"offsets": self.offsets, "numbers": self.numbers, "end": self.end})

    @classmethod
    def of(cls, row: Row) -> Optional["Plan"]:
        return cls(**json.loads(row["plan"])) if row["plan"] else None


def batch_object(row: Row) -> dict:
    """openai-python's Batch."""
    return {**json.loads(row["body"]), "status": row["status"],
            "request_counts": {"total": row["total"], "completed": row["completed"], "failed": row["failed"]}}


def created(body: dict, owner: str) -> Statement:
    return (f"INSERT INTO batches ({COLUMNS}) VALUES (?, ?, ?, 'validating', ?, 0, 0, 0, NULL, 0)",
            (body["id"], owner, body["created_at"], stored.dumps(body)))


def stamped(batch_id: str, status: str, times: dict, where: Sequence[str] = (), **fields) -> Statement:
    """Moves the batch to `status` with `times` (and other body `fields`) written into its body;
    `where` lists the statuses it may move from (any when empty)."""
    values = {**times, **fields}
    paths = ", ".join(["?, json(?)"] * len(values))
    body = f"json_set(body, {paths})" if values else "body"
    condition = f" AND status IN ({', '.join('?' * len(where))})" if where else ""
    params = [item for name, value in values.items() for item in (f"$.{name}", stored.dumps(value))]
    return (f"UPDATE batches SET status = ?, body = {body} WHERE id = ?{condition}",
            (status, *params, batch_id, *where))


def counted(batch_id: str) -> Statement:
    """The request counts, from the executed lines (exact however often a line was retried)."""
    return ("UPDATE batches SET completed = (SELECT COUNT(*) FROM batch_lines WHERE batch_id = ?1 AND ok = 1), "
            "failed = (SELECT COUNT(*) FROM batch_lines WHERE batch_id = ?1 AND ok = 0) WHERE id = ?1", (batch_id,))


async def row(deps: Deps, batch_id: str) -> Optional[Row]:
    rows = await deps.db.query(f"SELECT {COLUMNS} FROM batches WHERE id = ?", (batch_id,))
    return rows[0] if rows else None


async def find(deps: Deps, owner: str, batch_id: str) -> Row:
    rows = await deps.db.query(f"SELECT {COLUMNS} FROM batches WHERE id = ? AND owner = ?", (batch_id, owner))
    if not rows:
        raise NotFound(f"No batch found with id '{batch_id}'.", param="batch_id")
    return rows[0]


async def page(deps: Deps, owner: str, params) -> dict:
    listing = pages.Listing("batches", COLUMNS, [("owner = ?", owner)], "batch")
    return await pages.page(deps, listing, params, batch_object)

