"""Plain request/response values exchanged between the edge adapter (cf.http) and the core."""
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, List, Mapping, Optional, Protocol, Union

MAX_BODY = 16 * 1024 * 1024  # bytes of a JSON request body
MAX_UPLOAD = 30 * 1024 * 1024  # bytes of a multipart request: OpenAI's 25 MB audio files and the form
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}


@dataclass
class ApiKey:
    """The caller, once authenticated: usage and stored objects belong to `owner`."""
    id: str
    owner: str
    limits: Any = None  # api.limits.KeyLimits, or None for a key without limits


class Binary(Protocol):
    """Bytes that stay in the runtime — an uploaded file, a model's binary output, a stored
    object — handed to bindings and responses without a copy into Python; read() when needed."""
    content_type: str

    async def read(self) -> bytes: ...


class Upload(Binary, Protocol):
    """A file part of a multipart request."""
    filename: str
    size: int


FormValue = Union[str, Upload]


@dataclass(frozen=True)
class ByteList:
    """Bytes a model takes as a list of numbers (a "uint8 array" in Workers AI schemas). The edge
    builds the list in the runtime: built in Python, 4 MB took ~1 s per model call to convert."""
    data: bytes

    def __bytes__(self) -> bytes:
        return self.data


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
    oversized: bool = False  # the body is over its limit and was not read
    form: Optional[Dict[str, List[FormValue]]] = None  # multipart/form-data fields, parsed by the runtime
    form_error: Optional[str] = None  # why a multipart body could not be parsed
    origin: str = ""  # scheme://host of the request, for absolute URLs we hand out


@dataclass
class ApiResponse:
    body: Any = None  # dict/list → JSON; str/bytes/Binary → sent as they are
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)


@dataclass
class StreamResponse:
    events: AsyncIterator[str]  # encoded SSE frames, sent as they are produced
    status: int = 200
    headers: Dict[str, str] = field(default_factory=lambda: dict(SSE_HEADERS))
