"""OpenAI list pagination over D1, written once for every list: keyset pages on (order column, id)
after or before a cursor object, and the list envelope (`first_id`, `last_id`, `has_more`)."""
from dataclasses import dataclass, field
from typing import Any, Callable, List, Sequence, Tuple

from api.errors import InvalidRequest
from api.ports import Deps, Row

# Rows strictly past a cursor row, in the list's order (order column, then id).
_PAST = {"desc": "({by} < ? OR ({by} = ? AND {id} < ?))", "asc": "({by} > ? OR ({by} = ? AND {id} > ?))"}
_FLIP = {"asc": "desc", "desc": "asc"}


@dataclass
class Listing:
    """One list: its table, the rows it shows, and how they are ordered. `scope` names the
    collection (owner, parent object) and holds for the cursor too; `filters` narrow what is shown
    (status, purpose, …) but a cursor object outside them still places a page boundary."""
    table: str
    columns: str
    scope: Sequence[Tuple[str, Any]]  # (clause with one ?, value)
    noun: str  # what the ids are, for errors: "file", "vector store"
    filters: Sequence[Tuple[str, Sequence[Any]]] = field(default_factory=list)  # (clause, its values)
    id_column: str = "id"
    order_column: str = "created_at"


def _clauses(pairs: Sequence[Tuple[str, Any]]) -> Tuple[List[str], list]:
    return [clause for clause, _ in pairs], [value for _, value in pairs]


async def page(deps: Deps, listing: Listing, params, to_object: Callable[[Row], Any]) -> dict:
    """The list body for `params` (limit, order, after and, where the list has it, before)."""
    before = getattr(params, "before", None)
    cursor_id = before or params.after
    scope, values = _clauses(listing.scope)
    where = scope + [clause for clause, _ in listing.filters]
    values += [value for _, clause_values in listing.filters for value in clause_values]
    direction = _FLIP[params.order] if before else params.order
    if cursor_id is not None:
        cursor = await _cursor(deps, listing, cursor_id, "before" if before else "after")
        where.append(_PAST[direction].format(by=listing.order_column, id=listing.id_column))
        values += [cursor[0], cursor[0], cursor[1]]
    order_by = f"{listing.order_column} {direction.upper()}, {listing.id_column} {direction.upper()}"
    condition = f"WHERE {' AND '.join(where)} " if where else ""  # an unscoped list has none
    rows = await deps.db.query(f"SELECT {listing.columns} FROM {listing.table} {condition}"
                               f"ORDER BY {order_by} LIMIT ?", (*values, params.limit + 1))
    objects = [to_object(row) for row in rows]
    return envelope(objects, params.limit, before is not None)


async def _cursor(deps: Deps, listing: Listing, cursor_id: str, name: str) -> Tuple[Any, str]:
    scope, values = _clauses(listing.scope)
    rows = await deps.db.query(
        f"SELECT {listing.order_column} AS position, {listing.id_column} AS id FROM {listing.table} "
        f"WHERE {' AND '.join(scope + [f'{listing.id_column} = ?'])}", (*values, cursor_id))
    if not rows:
        raise InvalidRequest(f"Invalid value for '{name}': no {listing.noun} {cursor_id} to list {name} "
                             "(it may have been deleted).", param=name, code="invalid_value")
    return rows[0]["position"], rows[0]["id"]


def envelope(objects: list, limit: int, before: bool = False) -> dict:
    """The list body from up to limit + 1 objects fetched in keyset order."""
    data = objects[:limit]
    if before:
        data.reverse()
    return {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None, "has_more": len(objects) > limit}
