"""Responses and conversations in D1: a response row with its input and output items, written in
one transaction (so no half-written response is ever visible), read back by its owner only;
the context of `previous_response_id` chains and conversations; conversation items appended."""
from typing import List, Optional, Sequence

from api import pages, stored
from api.errors import InvalidRequest, NotFound
from api.ports import Deps, Row, Statement

MAX_CHAIN = 1000  # previous_response_id links followed
RESPONSE_COLUMNS = "id, owner, created_at, status, previous_response_id, conversation_id, body, request"
UNFINISHED = ("queued", "in_progress")
INSERT_ITEM = "INSERT OR REPLACE INTO items (parent, position, id, role, owner, created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)"
# Appended after the parent's last item, inside the batch's transaction.
APPEND_ITEM = ("INSERT INTO items (parent, position, id, role, owner, created_at, body) VALUES (?, "
               "(SELECT COALESCE(MAX(position), -1) + 1 FROM items WHERE parent = ?), ?, 'item', ?, ?, ?)")


async def item_rows(deps: Deps, parent: str, owner: str, items: Sequence[dict], role: str, start: int,
                    created: int) -> List[Statement]:
    return [(INSERT_ITEM, (parent, start + i, item["id"], role, owner, created,
                           await stored.column(deps, f"items/{parent}/{start + i}", item)))
            for i, item in enumerate(items)]


async def appended(deps: Deps, conversation_id: str, owner: str, items: Sequence[dict], created: int) -> List[Statement]:
    return [(APPEND_ITEM, (conversation_id, conversation_id, item["id"], owner, created,
                           await stored.column(deps, f"items/{conversation_id}/{item['id']}", item)))
            for item in items]


async def body_statement(deps: Deps, body: dict, owner: str, request: Optional[dict] = None) -> Statement:
    """The response row (output items excluded: they are item rows). An existing row changes only
    while it is unfinished: a cancelled response stays cancelled whatever its run writes later."""
    head = {key: value for key, value in body.items() if key != "output"}
    conversation = (body.get("conversation") or {}).get("id")
    return ("INSERT INTO responses (id, owner, created_at, status, previous_response_id, conversation_id, body, "
            "request) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
            "body = excluded.body WHERE responses.status IN ('queued', 'in_progress')",
            (body["id"], owner, body["created_at"], body["status"], body.get("previous_response_id"), conversation,
             await stored.column(deps, f"responses/{body['id']}", head),
             None if request is None else await stored.column(deps, f"requests/{body['id']}", request)))


async def save(deps: Deps, owner: str, body: dict, inputs: Sequence[dict], first: Sequence[Statement] = ()) -> None:
    """A finished response with its input and output items, after `first` (a run's lease check,
    conversation items, …), in one transaction."""
    created = body["created_at"]
    statements = [await body_statement(deps, body, owner)]
    statements += await item_rows(deps, body["id"], owner, inputs, "input", 0, created)
    statements += await item_rows(deps, body["id"], owner, body["output"], "output", len(inputs), created)
    await deps.db.batch(list(first) + statements)


async def find(deps: Deps, owner: str, response_id: str, param: Optional[str] = None) -> Row:
    rows = await deps.db.query(f"SELECT {RESPONSE_COLUMNS} FROM responses WHERE id = ? AND owner = ?",
                               (response_id, owner))
    if not rows:
        raise NotFound(f"Response with id '{response_id}' not found.", param=param)
    return rows[0]


async def items_of(deps: Deps, parent: str, role: str) -> List[dict]:
    rows = await deps.db.query("SELECT body FROM items WHERE parent = ? AND role = ? ORDER BY position",
                               (parent, role))
    return await stored.load_all(deps, [row["body"] for row in rows])


async def load(deps: Deps, row: Row) -> dict:
    """The response object of a row, output items included."""
    body = await stored.load(deps, row["body"])
    return {**body, "status": row["status"], "output": await items_of(deps, row["id"], "output")}


async def history(deps: Deps, owner: str, response_id: str) -> List[dict]:
    """Every item of a previous_response_id chain, oldest first: each response's inputs, then its
    outputs (tool calls and their outputs included, so a function-calling loop needs only ids)."""
    row = await find(deps, owner, response_id, "previous_response_id")
    if row["status"] in UNFINISHED:
        raise InvalidRequest(f"Previous response with id '{response_id}' is still {row['status']}.",
                             param="previous_response_id", code="invalid_value")
    rows = await deps.db.query(
        "WITH RECURSIVE chain (id, previous, depth) AS ("
        " SELECT id, previous_response_id, 0 FROM responses WHERE id = ? AND owner = ?"
        " UNION ALL SELECT r.id, r.previous_response_id, c.depth + 1 FROM responses r JOIN chain c"
        " ON r.id = c.previous WHERE r.owner = ? AND c.depth < ?) "
        "SELECT i.body FROM items i JOIN chain c ON i.parent = c.id ORDER BY c.depth DESC, i.position ASC",
        (response_id, owner, owner, MAX_CHAIN))
    return await stored.load_all(deps, [r["body"] for r in rows])


async def conversation(deps: Deps, owner: str, conversation_id: str, param: str = "conversation") -> Row:
    rows = await deps.db.query("SELECT id, created_at, metadata FROM conversations WHERE id = ? AND owner = ?",
                               (conversation_id, owner))
    if not rows:
        raise NotFound(f"Conversation with id '{conversation_id}' not found.", param=param)
    return rows[0]


async def conversation_items(deps: Deps, conversation_id: str) -> List[dict]:
    return await items_of(deps, conversation_id, "item")


async def delete(deps: Deps, parent_table: str, parent_id: str, owner: str, extra: Sequence[Statement] = ()) -> None:
    """An object and its items; their R2 values after the rows are gone."""
    pointers = [r["body"] for r in await deps.db.query(
        "SELECT body FROM items WHERE parent = ? AND body LIKE 'r2:%'", (parent_id,))]
    if parent_table == "responses":
        pointers += [v for r in await deps.db.query("SELECT body, request FROM responses WHERE id = ?", (parent_id,))
                     for v in (r["body"], r["request"])]
    await deps.db.batch([(f"DELETE FROM {parent_table} WHERE id = ? AND owner = ?", (parent_id, owner)),
                         ("DELETE FROM items WHERE parent = ?", (parent_id,)), *extra])
    await stored.forget(deps, pointers)


async def item_page(deps: Deps, parent: str, role: str, params) -> dict:
    """A page of a response's input items or a conversation's items, in position order."""
    listing = pages.Listing("items", "id, position, body", [("parent = ?", parent), ("role = ?", role)], "item",
                            order_column="position")
    body = await pages.page(deps, listing, params, lambda row: row)
    body["data"] = await stored.load_all(deps, [row["body"] for row in body["data"]])
    return body
