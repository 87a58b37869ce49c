"""api.ports.Database over a D1 binding (the SDK's wrapper converts arguments and rows)."""
from typing import Any, List, Sequence

from api.ports import Row, Statement


class D1:
    def __init__(self, binding):
        self._db = binding

    def _prepare(self, sql: str, params: Sequence[Any]):
        return self._db.prepare(sql).bind(*params)

    async def query(self, sql: str, params: Sequence[Any] = ()) -> List[Row]:
        return list((await self._prepare(sql, params).all())["results"])

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._prepare(sql, params).run()

    async def batch(self, statements: List[Statement]) -> None:
        await self._db.batch([self._prepare(sql, params) for sql, params in statements])
