"""The store layer of the stateful objects (responses, conversations, their items, runs): JSON
columns whose large values live in R2 behind a pointer (D1 takes at most ~2 MB per value and
100 KB per statement), and owner-scoped lookups that answer another owner's id with a 404."""
import json
from typing import Any, List, Optional, Sequence

from api.errors import NotFound
from api.ports import Deps, Row

INLINE_BYTES = 32 * 1024  # larger JSON values go to R2; several fit in one D1 statement
POINTER = "r2:"
PREFIX = "stored/"  # R2 keys of the values kept out of D1


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def column(deps: Deps, key: str, value: Any) -> str:
    """The column text for `value`: its JSON, or a pointer to it in R2 under PREFIX + key."""
    text = dumps(value)
    if len(text) <= INLINE_BYTES:  # characters ≤ bytes: a cheap first test
        return text
    data = text.encode()
    if len(data) <= INLINE_BYTES:
        return text
    await deps.blobs.put(PREFIX + key, data, "application/json")
    return POINTER + PREFIX + key


async def load(deps: Deps, text: Optional[str]) -> Any:
    """The value a column holds, fetched from R2 when it is a pointer."""
    if text is None:
        return None
    if not text.startswith(POINTER):
        return json.loads(text)
    blob = await deps.blobs.get(text[len(POINTER):])
    if blob is None:
        raise RuntimeError(f"stored value {text} is missing from the bucket")
    return json.loads(await blob.read())


async def text(deps: Deps, column: str) -> str:
    """The JSON text a column holds, fetched from R2 when it is a pointer (not parsed)."""
    if not column.startswith(POINTER):
        return column
    blob = await deps.blobs.get(column[len(POINTER):])
    if blob is None:
        raise RuntimeError(f"stored value {column} is missing from the bucket")
    return (await blob.read()).decode()


async def load_all(deps: Deps, texts: Sequence[Optional[str]]) -> List[Any]:
    return [await load(deps, text) for text in texts]


async def forget(deps: Deps, texts: Sequence[Optional[str]]) -> None:
    """Deletes the R2 values behind the pointers among `texts` (after their rows are gone)."""
    for text in texts:
        if text and text.startswith(POINTER):
            await deps.blobs.delete(text[len(POINTER):])


async def owned(deps: Deps, table: str, columns: str, object_id: str, owner: str, noun: str,
                param: Optional[str] = None) -> Row:
    """The owner's row with this id, or the 404 OpenAI gives for a missing object."""
    rows = await deps.db.query(f"SELECT {columns} FROM {table} WHERE id = ? AND owner = ?", (object_id, owner))
    if not rows:
        raise NotFound(f"No {noun} found with id '{object_id}'.", param=param)
    return rows[0]
