"""api.ports.Inference over the Workers AI binding (or the local stand-in, bound the same way).
Every call has a deadline: Workers AI has none of its own, and a call that hangs would hold the
request (and its client) forever."""
import asyncio
import codecs
import re
from typing import AsyncIterator, Callable, Optional, Union

import js
from pyodide.ffi import JsException, JsProxy

from api.errors import UpstreamError, workers_ai_error
from cf.binary import JsBinary
from cf.convert import to_js_object, to_py

_CODE = re.compile(r"(\d{4}):\s*(.*)", re.S)


def _error(exc: JsException, model: str):
    # InferenceUpstreamError's message is "<internal code>: <description>"; the code is the contract.
    found = _CODE.search(str(exc))
    if not found:
        print(f"ai: {model} failed without a Workers AI code: {type(exc).__name__}: {exc}")  # for the log only
        return UpstreamError(f"Workers AI failed for {model}.")
    return workers_ai_error(int(found[1]), found[2].strip(), model)


def _timed_out(model: str, seconds: float, what: str) -> UpstreamError:
    return UpstreamError(f"Workers AI did not {what} for {model} within {seconds:g} seconds.",
                         code="upstream_timeout", status=504)


class WorkersAI:
    """`timeouts(model)` gives a model's deadlines (api.catalog.Timeouts)."""

    def __init__(self, binding, timeouts: Callable):
        self._ai, self._timeouts = binding, timeouts

    async def _call(self, model: str, inputs: dict, options: Optional[dict], streamed: bool):
        seconds = self._timeouts(model).answer
        # A whole answer's signal also ends the upstream work when the deadline passes. A stream's
        # would cut it off however well it flows, so streams have none: the reader is cancelled
        # instead when a read times out. wait_for is the deadline whatever the binding does.
        signal = None if streamed else js.AbortSignal.timeout(int(seconds * 1000))
        sent = {**(options or {}), **({"signal": signal} if signal else {})}
        try:
            return await asyncio.wait_for(self._ai.run(model, to_js_object(inputs), to_js_object(sent)), seconds)
        except asyncio.TimeoutError:
            raise _timed_out(model, seconds, "answer") from None
        except JsException as exc:
            if signal is not None and signal.aborted:
                raise _timed_out(model, seconds, "answer") from None
            raise _error(exc, model) from None

    async def run(self, model: str, inputs: dict, options: Optional[dict] = None):
        result = await self._call(model, inputs, options, streamed=False)
        if isinstance(result, JsProxy) and hasattr(result, "getReader"):  # images, audio
            return JsBinary(result, "application/octet-stream")
        return to_py(result)

    async def stream(self, model: str, inputs: dict, options: Optional[dict] = None) -> Union[dict, AsyncIterator[str]]:
        result = await self._call(model, inputs, options, streamed=True)
        if not hasattr(result, "getReader"):
            return to_py(result)  # some models answer a stream request with the whole result
        return self._texts(result, model, self._timeouts(model).idle)

    @staticmethod
    async def _texts(stream, model: str, idle: float) -> AsyncIterator[str]:
        reader = stream.getReader()
        decoder = codecs.getincrementaldecoder("utf-8")()
        finished = False
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(reader.read(), idle)
                except asyncio.TimeoutError:
                    raise _timed_out(model, idle, "send more of the stream") from None
                if chunk.done:
                    finished = True
                    break
                yield decoder.decode(chunk.value.to_bytes())
        except JsException as exc:
            finished = True
            raise _error(exc, model) from None
        finally:
            if not finished:  # the consumer stopped early (stop sequence, client gone, stall): stop generating
                await reader.cancel()
            reader.releaseLock()
