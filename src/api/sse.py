"""Server-sent events: our OpenAI-style frames out, and Workers AI's event stream in."""
import json
from contextlib import aclosing
from typing import AsyncIterator, Callable, List

from api import safejson
from api.errors import ApiError, UpstreamError

DONE = "data: [DONE]\n\n"
INTERNAL = ApiError("The server had an error while processing your request. Sorry about that!")


def frame(payload: dict) -> str:
    return "data: " + json.dumps(payload, separators=(",", ":")) + "\n\n"


class ChunkFramer:
    """Frames of one streamed completion: the fields every chunk repeats are encoded once."""

    def __init__(self, head: dict):
        self.prefix = "data: " + json.dumps(head, separators=(",", ":"))[:-1] + ',"choices":['

    def choice(self, choice: dict) -> str:
        return self.prefix + json.dumps(choice, separators=(",", ":")) + "]}\n\n"


async def guarded(frames: AsyncIterator[str], log: Callable[[str], None],
                  request_id: str) -> AsyncIterator[str]:
    """Once the first byte is out, an error can only be reported in-stream, as an error event."""
    try:
        async with aclosing(frames):  # closing this stream (the client left) closes the frames'
            async for item in frames:
                yield item
    except ApiError as exc:
        yield frame(exc.body())
    except Exception as exc:  # noqa: BLE001 - the client must get an error event, not a cut stream
        log(f"{request_id} stream failed: {type(exc).__name__}: {exc}")
        yield frame(INTERNAL.body())


class EventParser:
    """Incremental parser of an upstream SSE text stream into JSON payloads: chunks may split
    events anywhere. A stream that ends without `data: [DONE]` was cut short upstream."""

    def __init__(self):
        self.buffer = ""
        self.done = False

    def feed(self, chunk: str) -> List[dict]:
        self.buffer += chunk
        if "\n\n" not in self.buffer:
            return []
        *complete, self.buffer = self.buffer.split("\n\n")
        payloads = []
        for block in complete:
            data = _data(block)
            if data == "[DONE]":
                self.done = True
                break
            if data:
                try:
                    payloads.append(safejson.loads(data))
                except ValueError:
                    raise UpstreamError("Workers AI sent a stream event that is not JSON.") from None
        return payloads

    def end(self) -> None:
        if not self.done and _data(self.buffer) != "[DONE]":
            raise UpstreamError("The Workers AI stream ended before it was complete.")


def _data(block: str) -> str:
    if block.startswith("data: ") and "\n" not in block:  # the usual one-line event
        return block[6:]
    return "".join(line[5:].lstrip() for line in block.splitlines() if line.startswith("data:"))
