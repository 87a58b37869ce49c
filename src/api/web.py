"""Plain request/response values exchanged between the edge adapter (cf.http) and the core."""
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, Mapping, Optional

MAX_BODY = 16 * 1024 * 1024  # bytes of a JSON request body
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}


@dataclass
class ApiKey:
    """The caller, once authenticated: usage and (later) stored objects belong to `owner`."""
    id: str
    owner: str


@dataclass
class ApiRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""
    query: Mapping[str, str] = field(default_factory=dict)
    params: Dict[str, str] = field(default_factory=dict)  # path parameters, set by routing
    route: str = ""  # the matched route's template, e.g. /v1/chat/completions
    key: Optional[ApiKey] = None  # set by authentication
    id: str = ""  # request id, echoed as x-request-id
    received_at: float = 0.0
    oversized: bool = False  # the body is over MAX_BODY and was not read


@dataclass
class ApiResponse:
    body: Any = None  # dict/list → JSON; str/bytes → sent as they are
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)


@dataclass
class StreamResponse:
    events: AsyncIterator[str]  # encoded SSE frames, sent as they are produced
    status: int = 200
    headers: Dict[str, str] = field(default_factory=lambda: dict(SSE_HEADERS))
