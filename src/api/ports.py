"""What the core needs from the platform (Protocols), and the Deps bundle handed to every handler.

src/cf/ implements these over the Workers bindings; tests implement them in-process.
"""
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, FrozenSet, List, Optional, Protocol, Sequence, Tuple, Union

from api.feed import Feed
from api.web import Binary

Row = Dict[str, Any]
Statement = Tuple[str, Sequence[Any]]


class Inference(Protocol):
    async def run(self, model: str, inputs: dict, options: Optional[dict] = None) -> Union[dict, Binary]:
        """The result of Workers AI's `run`: parsed JSON, or the bytes of a binary answer (images,
        audio). Inputs may hold Binary values (uploads), passed on without a copy. Raises ApiError
        for upstream failures."""

    async def stream(self, model: str, inputs: dict, options: Optional[dict] = None) -> Union[dict, Feed]:
        """Starts a streamed `run` and returns its SSE text as it arrives (any split) — or the
        parsed result, for models that answer a stream request whole."""


class Database(Protocol):
    async def query(self, sql: str, params: Sequence[Any] = ()) -> List[Row]: ...

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    async def batch(self, statements: List[Statement]) -> None:
        """Runs the statements in order as one transaction."""


class StoredBlob(Protocol):
    """An object in the bucket: usable as a response body, or read()."""
    content_type: str
    size: int
    metadata: Dict[str, str]

    async def read(self) -> bytes: ...


class MultipartUpload(Protocol):
    """An object written in parts (R2: every part but the last of one size, at least 5 MiB)."""

    async def part(self, data: bytes) -> None:
        """Appends the next part."""

    async def complete(self) -> None: ...

    async def abort(self) -> None: ...


class Blobs(Protocol):
    async def put(self, key: str, data: Union[bytes, Binary], content_type: str,
                  metadata: Optional[Dict[str, str]] = None) -> None: ...

    async def get(self, key: str) -> Optional[StoredBlob]: ...

    async def get_range(self, key: str, offset: int, length: int) -> Optional[bytes]:
        """Bytes [offset, offset + length) of an object (fewer at its end); None if it is missing."""

    async def multipart(self, key: str, content_type: str) -> MultipartUpload:
        """Starts writing an object in parts, for one too large to hold in memory whole."""

    async def delete(self, key: str) -> None: ...


class Web(Protocol):
    async def fetch_bytes(self, url: str, max_bytes: int) -> Tuple[bytes, str]:
        """GET a URL that api.ssrf.check_url accepts, following its redirects (each one checked
        before it is requested): (body, content type). ApiError if refused, failed or over max_bytes."""


class VectorIndex(Protocol):
    """A vector index (Vectorize). Writes become queryable asynchronously, seconds later."""

    async def upsert(self, vectors: List[dict], namespace: Optional[str] = None) -> None:
        """vectors: {id, values, metadata}; ≤ 1000 per call, metadata ≤ 10 KiB each."""

    async def query(self, vector: List[float], top_k: int, filter: Optional[dict] = None,
                    namespace: Optional[str] = None) -> List[dict]:
        """Nearest first: [{id, score}] (cosine). filter: Vectorize's metadata filter."""

    async def delete(self, ids: List[str]) -> None: ...


class RateLimiter(Protocol):
    async def limit(self, key: str, delta: int) -> bool:
        """Adds `delta` to `key`'s counter in the current window; False (nothing added) when the
        counter had already reached the configured limit (the Workers Rate Limiting binding)."""


class JobQueue(Protocol):
    async def send_batch(self, bodies: List[dict]) -> None: ...


@dataclass
class QueueMessage:
    """A delivered job message (delivery is at least once: handlers are idempotent)."""
    id: str
    body: dict
    attempts: int = 1


@dataclass(frozen=True)
class Config:
    model_aliases: Dict[str, str] = field(default_factory=dict)  # extra/overriding aliases
    local_dev_key: Optional[str] = None  # accepted as an API key (local environment only)
    usage_flush_seconds: float = 0.5  # how long usage events gather before one Queue send
    url_signing_key: Optional[str] = None  # secret for the signed, expiring URLs we hand out
    url_ttl_seconds: int = 3600  # how long such a URL works
    runs_inline: bool = False  # no runs queue (wrangler dev --remote): background runs go in waitUntil
    allowed_private_origins: FrozenSet[str] = frozenset()  # api.ssrf.origins: private origins we may fetch


@dataclass
class Isolate:
    """The per-isolate mutable state, in one place: created empty once per isolate (so the
    deploy-time memory snapshot holds nothing of a request), shared by the requests it serves."""
    keys: Dict[str, Tuple[Any, float]] = field(default_factory=dict)  # key hash → (ApiKey, expiry)
    usage: List[dict] = field(default_factory=list)  # usage events waiting for the batched send
    configs: Dict[tuple, Config] = field(default_factory=dict)  # parsed vars per raw values
    spend: Dict[str, Any] = field(default_factory=dict)  # key id → api.limits.Spend (token budgets)
    requests: Dict[str, Tuple[int, int]] = field(default_factory=dict)  # key id → (minute, requests seen)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


@dataclass
class Deps:
    ai: Inference
    db: Database
    jobs: JobQueue
    web: Web
    blobs: Blobs
    vectors: VectorIndex
    runs: JobQueue  # the runs queue (api.runs): background work, apart from usage and ingestion
    limiter: RateLimiter
    config: Config
    defer: Callable[[Awaitable[Any]], None]  # run after the response is sent (ctx.waitUntil)
    now: Callable[[], float] = time.time
    new_id: Callable[[str], str] = new_id
    log: Callable[[str], None] = print
    isolate: Isolate = field(default_factory=Isolate)
    # Answers a request inside the worker as its route would (api.app.dispatch), for work that runs
    # the live endpoints (batch lines): given to the core by the edge, so nothing imports upward.
    dispatch: Optional[Callable[..., Awaitable[Any]]] = None
