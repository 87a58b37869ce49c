"""Honest in-process stand-ins for api.ports: SQLite for D1 (loaded from schema.sql), a list for
the Queue, a dict for R2, and a scripted Workers AI that answers in the real output shapes."""
import asyncio
import json
import pathlib
import sqlite3
from typing import Any, List, Optional, Sequence

from api import ssrf
from api.errors import InvalidRequest
from api.feed import Feed

ROOT = pathlib.Path(__file__).resolve().parents[1]


class SqliteDB:
    def __init__(self):
        self.conn = sqlite3.connect(":memory:")
        self.conn.row_factory = sqlite3.Row
        self.conn.executescript((ROOT / "schema.sql").read_text())
        self.fail_next = False

    async def query(self, sql: str, params: Sequence[Any] = ()):
        with self.conn:  # UPDATE … RETURNING commits, as D1 does
            return [dict(row) for row in self.conn.execute(sql, _bound(params))]

    async def execute(self, sql: str, params: Sequence[Any] = ()):
        with self.conn:
            self.conn.execute(sql, _bound(params))

    async def batch(self, statements):
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("D1_ERROR: simulated outage")
        with self.conn:  # one transaction, rolled back on error, like D1's batch
            for sql, params in statements:
                self.conn.execute(sql, _bound(params))


def _bound(params) -> tuple:
    assert len(params) <= 100, f"D1 binds at most 100 parameters per statement, not {len(params)}"
    return tuple(params)


class ListQueue:
    def __init__(self):
        self.sent: List[dict] = []
        self.batches = 0

    async def send_batch(self, bodies: List[dict]):
        self.batches += 1
        self.sent += json.loads(json.dumps(bodies))  # bodies must be JSON, as on the real queue


class ScriptedAI:
    """Answers `run` with queued results (dicts, or lists of SSE text chunks for streams)."""

    def __init__(self):
        self.results: List[Any] = []
        self.calls: List[tuple] = []

    def answer(self, result):
        self.results.append(result)

    async def run(self, model: str, inputs: dict, options: Optional[dict] = None):
        self.calls.append((model, inputs, options))
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    async def stream(self, model: str, inputs: dict, options: Optional[dict] = None):
        chunks = await self.run(model, inputs, options)
        if isinstance(chunks, dict):  # a model that answers a stream request whole
            return chunks
        return ScriptedFeed(chunks)


class ScriptedFeed(Feed):
    """Scripted chunks pushed one per loop turn, from the first read on (the handler and the test
    reading the stream may run in different loops), as the edge pushes a Workers AI stream; an
    exception among them ends the feed with that error."""

    def __init__(self, chunks: list):
        super().__init__(on_close=self._stop)
        self.chunks, self.started = list(chunks), False

    def _stop(self):
        self.chunks = []

    def _push(self):
        if not self.chunks:
            return self.end()
        chunk = self.chunks.pop(0)
        if isinstance(chunk, Exception):
            return self.end(chunk)
        self.put(chunk)
        asyncio.get_running_loop().call_soon(self._push)

    async def __anext__(self) -> str:
        if not self.started:
            self.started = True
            asyncio.get_running_loop().call_soon(self._push)
        return await super().__anext__()


class DictWeb:
    """The web as a dict, behind the real SSRF guard: url → (body, content type), or
    (status, location) for a redirect; any other URL is a 404. `contacted` lists every URL
    requested, so tests see what the guard let through."""

    def __init__(self):
        self.pages = {}
        self.contacted: List[str] = []
        self.allowed = frozenset()  # Config.allowed_private_origins

    async def fetch_bytes(self, url: str, max_bytes: int):
        return await ssrf.fetch(lambda checked: self._get(checked, max_bytes), url, self.allowed)

    async def _get(self, url: str, max_bytes: int) -> ssrf.Hop:
        self.contacted.append(url)
        if url not in self.pages:
            return ssrf.Hop(404)
        first, second = self.pages[url]
        if isinstance(first, int):
            return ssrf.Hop(first, second)
        if len(first) > max_bytes:
            raise InvalidRequest(f"{url} is over {max_bytes} bytes.", code="image_too_large")
        return ssrf.Hop(200, None, second, first)


class MemoryBinary:
    """In-process stand-in for bytes kept in the runtime (uploads, binary model outputs, objects)."""

    def __init__(self, data: bytes, content_type: str = "application/octet-stream", filename: str = "",
                 metadata: Optional[dict] = None):
        self.data, self.content_type, self.filename = data, content_type, filename
        self.size, self.metadata = len(data), metadata or {}

    async def read(self) -> bytes:
        return self.data


class DictBlobs:
    """The bucket as a dict: key → MemoryBinary."""

    def __init__(self):
        self.objects = {}
        self.ranges = 0  # get_range calls
        self.uploads: List[List[int]] = []  # the part sizes of each completed multipart upload

    async def put(self, key, data, content_type, metadata=None):
        body = data if isinstance(data, bytes) else await data.read()
        self.objects[key] = MemoryBinary(body, content_type, metadata=dict(metadata or {}))

    async def get(self, key):
        return self.objects.get(key)

    async def get_range(self, key, offset, length):
        found = self.objects.get(key)
        self.ranges += 1
        return None if found is None else found.data[offset:offset + length]

    async def multipart(self, key, content_type):
        return MemoryUpload(self, key, content_type)

    async def delete(self, key):
        self.objects.pop(key, None)


class WindowLimiter:
    """The Rate Limiting binding as wrangler dev simulates it: a counter per key and wall-clock
    aligned window, allowed while below the limit (even when delta takes it past), unchanged when
    refused. Limit and period as in wrangler.toml's [[ratelimits]] RPM."""

    def __init__(self, clock, limit: int = 3_600_000, period: int = 60):
        self.clock, self.limit_value, self.period = clock, limit, period
        self.counts = {}  # key → (window, count)
        self.calls: List[tuple] = []

    async def limit(self, key: str, delta: int) -> bool:
        assert isinstance(delta, int) and 0 < delta <= 4_294_967_295
        self.calls.append((key, delta))
        window = int(self.clock() // self.period)
        seen, count = self.counts.get(key, (window, 0))
        count = count if seen == window else 0
        if count >= self.limit_value:
            return False
        self.counts[key] = (window, count + delta)
        return True


class MemoryUpload:
    """A multipart upload with R2's rules: every part but the last at least MIN_PART bytes and all of
    one size, the last no larger; the object appears on complete()."""
    MIN_PART = 5 * 1024 * 1024

    def __init__(self, blobs: DictBlobs, key: str, content_type: str):
        self.blobs, self.key, self.content_type, self.parts = blobs, key, content_type, []

    async def part(self, data: bytes):
        self.parts.append(bytes(data))

    async def complete(self):
        sizes = [len(part) for part in self.parts]
        assert all(size >= self.MIN_PART and size == sizes[0] for size in sizes[:-1]), sizes
        assert not sizes or sizes[-1] <= sizes[0], sizes
        self.blobs.objects[self.key] = MemoryBinary(b"".join(self.parts), self.content_type)
        self.blobs.uploads.append(sizes)

    async def abort(self):
        self.parts = []


class Clock:
    def __init__(self, now: float = 1_767_225_600.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class MemoryVectors:
    """Vectorize in a dict: exact cosine, namespaces, and Vectorize's metadata filters
    ({key: value | {"$eq"|"$ne"|"$lt"|"$lte"|"$gt"|"$gte": v} | {"$in"|"$nin": [...]}}),
    applied before topK. Writes are visible at once; `fail_upserts` makes the next N upserts raise."""

    def __init__(self):
        self.vectors = {}  # id → {id, values, metadata, namespace}
        self.fail_upserts = 0
        self.upserts: List[int] = []  # vectors per upsert call
        self.queries: List[dict] = []

    async def upsert(self, vectors, namespace=None):
        if self.fail_upserts:
            self.fail_upserts -= 1
            raise RuntimeError("Vectorize: simulated outage")
        assert len(vectors) <= 1000
        self.upserts.append(len(vectors))
        for vector in vectors:
            assert len(json.dumps(vector["metadata"]).encode()) <= 10240
            self.vectors[vector["id"]] = {**vector, "namespace": namespace}

    async def query(self, vector, top_k, filter=None, namespace=None):
        self.queries.append({"top_k": top_k, "filter": filter, "namespace": namespace})
        found = [{"id": v["id"], "score": _cosine(vector, v["values"])} for v in self.vectors.values()
                 if v["namespace"] == namespace and _matches(v["metadata"], filter or {})]
        return sorted(found, key=lambda m: -m["score"])[:top_k]

    async def delete(self, ids):
        for vector_id in ids:
            self.vectors.pop(vector_id, None)


def _cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norms = (sum(x * x for x in a) ** 0.5) * (sum(y * y for y in b) ** 0.5)
    return dot / norms if norms else 0.0


_OPS = {"$eq": lambda a, b: a == b, "$ne": lambda a, b: a != b, "$lt": lambda a, b: a < b,
        "$lte": lambda a, b: a <= b, "$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b,
        "$in": lambda a, b: a in b, "$nin": lambda a, b: a not in b}


def _matches(metadata: dict, filter: dict) -> bool:
    for key, condition in filter.items():
        conditions = condition if isinstance(condition, dict) else {"$eq": condition}
        for op, wanted in conditions.items():
            if key not in metadata:
                if op in ("$ne", "$nin"):
                    continue
                return False
            try:
                if not _OPS[op](metadata[key], wanted):
                    return False
            except TypeError:
                return False
    return True
