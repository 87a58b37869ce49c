"""Server-sent events: our OpenAI-style frames out, and Workers AI's event stream in."""
import json
from typing import AsyncIterator, Callable

from api.errors import ApiError, UpstreamError

DONE = "data: [DONE]\n\n"
INTERNAL = ApiError("The server had an error while processing your request. Sorry about that!")


def frame(payload: dict) -> str:
    return "data: " + json.dumps(payload, separators=(",", ":")) + "\n\n"


async def guarded(frames: AsyncIterator[str], log: Callable[[str], None],
                  request_id: str) -> AsyncIterator[str]:
    """Once the first byte is out, an error can only be reported in-stream, as an error event."""
    try:
        async for item in frames:
            yield item
    except ApiError as exc:
        yield frame(exc.body())
    except Exception as exc:  # noqa: BLE001 - the client must get an error event, not a cut stream
        log(f"{request_id} stream failed: {type(exc).__name__}: {exc}")
        yield frame(INTERNAL.body())


async def events(chunks: AsyncIterator[str]) -> AsyncIterator[dict]:
    """Parse an upstream SSE text stream into JSON payloads; chunks may split events anywhere.
    A stream that ends without `data: [DONE]` was cut short upstream, which is an error."""
    buffer = ""
    async for chunk in chunks:
        buffer += chunk
        *complete, buffer = buffer.split("\n\n")
        for block in complete:
            data = _data(block)
            if data == "[DONE]":
                return
            if data:
                yield json.loads(data)
    if _data(buffer) != "[DONE]":
        raise UpstreamError("The Workers AI stream ended before it was complete.")


def _data(block: str) -> str:
    return "".join(line[5:].lstrip() for line in block.splitlines() if line.startswith("data:"))
