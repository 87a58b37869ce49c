"""OpenAI list pagination over D1 rows: keyset clauses on (created_at, <id column>) for `after` /
`before` cursors, and the list envelope (`first_id`, `last_id`, `has_more`). Imports nothing."""
from typing import List, Optional, Tuple

# Rows strictly past a cursor row, in the list's order (created_at, then id).
_PAST = {"desc": "(created_at < ? OR (created_at = ? AND {id} < ?))",
         "asc": "(created_at > ? OR (created_at = ? AND {id} > ?))"}
_FLIP = {"asc": "desc", "desc": "asc"}


def keyset(order: str, cursor: Optional[Tuple[int, str]], before: bool = False,
           id_column: str = "id") -> Tuple[List[str], list, str]:
    """(where clauses, their values, ORDER BY) for one page. A `before` page is read backwards
    from the cursor (see `page`, which puts it back in the list's order)."""
    direction = _FLIP[order] if before else order
    where, values = [], []
    if cursor is not None:
        where.append(_PAST[direction].format(id=id_column))
        values += [cursor[0], cursor[0], cursor[1]]
    return where, values, f"created_at {direction.upper()}, {id_column} {direction.upper()}"


def page(objects: list, limit: int, before: bool = False) -> dict:
    """The list body from up to limit + 1 objects fetched in keyset order."""
    data = objects[:limit]
    if before:
        data.reverse()
    return {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None, "has_more": len(objects) > limit}
