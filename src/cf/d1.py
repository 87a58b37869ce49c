"""api.ports.Database over the raw D1 binding."""
from typing import Any, List, Sequence

from pyodide.ffi import jsnull, to_js

from api.ports import Row, Statement
from cf.convert import to_py


class D1:
    def __init__(self, binding):
        self._db = binding

    def _prepare(self, sql: str, params: Sequence[Any]):
        # D1 refuses `undefined`, which is what Python None becomes by default: SQL NULL is JS null.
        return self._db.prepare(sql).bind(*(jsnull if p is None else p for p in params))

    async def query(self, sql: str, params: Sequence[Any] = ()) -> List[Row]:
        return to_py((await self._prepare(sql, params).all()).results)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._prepare(sql, params).run()

    async def batch(self, statements: List[Statement]) -> None:
        await self._db.batch(to_js([self._prepare(sql, params) for sql, params in statements]))
