"""api.ports.Inference over the Workers AI binding (or the local stand-in, bound the same way).
Every call has a deadline: Workers AI has none of its own, and a call that hangs would hold the
request (and its client) forever."""
import asyncio
import codecs
import re
from typing import AsyncIterator, Callable, Optional, Union

import js
from pyodide.ffi import JsException, JsProxy, create_proxy, to_js

from api.errors import UpstreamError, workers_ai_error
from api.feed import Feed
from api.web import ByteList
from cf.binary import JsBinary
from cf.convert import dispose, settled, to_js_object

_CODE = re.compile(r"(\d{4}):\s*(.*)", re.S)


def _error(exc, model: str):
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
        self._lists = _Lists()

    async def _call(self, model: str, inputs: dict, options: Optional[dict], streamed: bool):
        seconds = self._timeouts(model).answer
        # A whole answer's signal also ends the upstream work when the deadline passes. A stream's
        # would cut it off however well it flows, so streams have none: the reader is cancelled
        # instead when a read times out. wait_for is the deadline whatever the binding does.
        signal = None if streamed else js.AbortSignal.timeout(int(seconds * 1000))
        sent = {**(options or {}), **({"signal": signal} if signal else {})}
        taken = []
        try:
            converted = dict(inputs)
            for name, value in inputs.items():
                if isinstance(value, ByteList):
                    converted[name] = self._lists.take(value)
                    taken.append(value)
            return await asyncio.wait_for(self._ai.run(model, to_js_object(converted), to_js_object(sent)), seconds)
        except asyncio.TimeoutError:
            raise _timed_out(model, seconds, "answer") from None
        except JsException as exc:
            if signal is not None and signal.aborted:
                raise _timed_out(model, seconds, "answer") from None
            raise _error(exc, model) from None
        finally:
            for value in taken:
                self._lists.give_back(value)

    async def run(self, model: str, inputs: dict, options: Optional[dict] = None):
        result = await self._call(model, inputs, options, streamed=False)
        if isinstance(result, JsProxy) and hasattr(result, "getReader"):  # images, audio
            return JsBinary(result, "application/octet-stream")
        return settled(result)

    async def stream(self, model: str, inputs: dict, options: Optional[dict] = None) -> Union[dict, AsyncIterator[str]]:
        result = await self._call(model, inputs, options, streamed=True)
        if not hasattr(result, "getReader"):
            return settled(result)  # some models answer a stream request with the whole result
        return _feed(result, model, self._timeouts(model).idle)


class _Lists:
    """ByteList inputs as JS arrays of numbers, built by the runtime (Array.from of a Uint8Array:
    ~90 ms for 4 MB) once for all the calls in flight that send them (an edit's n images)."""

    def __init__(self):
        self.arrays: dict = {}  # ByteList → [JS array, calls using it]

    def take(self, value: ByteList):
        entry = self.arrays.get(value)
        if entry is None:
            entry = self.arrays[value] = [getattr(js.Array, "from")(to_js(value.data)), 0]
        entry[1] += 1
        return entry[0]

    def give_back(self, value: ByteList) -> None:
        entry = self.arrays[value]
        entry[1] -= 1
        if not entry[1]:
            del self.arrays[value]  # the last call is done: the array (16 MB per 4 MB of bytes) can go


def _feed(stream, model: str, idle: float) -> Feed:
    """The stream's text, pushed by the runtime: it is piped into a sink whose write puts each
    chunk into the Feed. A read loop costs two promises per chunk crossing into Python, ~0.3 ms of
    CPU per streamed token in all (bench/cpu.py); a sink call, a few microseconds. A stream that
    sends nothing for `idle` seconds ends with upstream_timeout, and the model is stopped."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    aborter = js.AbortController.new()
    feed = Feed(on_close=aborter.abort)  # the reader stopped early (stop sequence, client gone)
    loop = asyncio.get_running_loop()
    last_read = loop.time()

    def watch():
        # One timer per idle period, not one per chunk: a timer is a JS setTimeout and a loop turn.
        # It runs until the pipe settles (release), also once the reader has all it wants
        # (Feed.finish): a model that never closes its stream after [DONE] is stopped here.
        nonlocal deadline
        quiet = loop.time() - last_read
        if quiet < idle:
            deadline = loop.call_later(idle - quiet, watch)
        else:
            feed.end(_timed_out(model, idle, "send more of the stream"))
            aborter.abort()

    def write(chunk, *_):
        nonlocal last_read
        last_read = loop.time()
        return feed.put(decoder.decode(chunk.to_bytes()))  # what the reader asks us to wait for

    def close(*_):
        feed.end()

    def abort(reason=None, *_):
        feed.end(_error(reason, model))

    sink = {name: create_proxy(method) for name, method in (("write", write), ("close", close), ("abort", abort))}

    def release(*_):
        deadline.cancel()
        for method in sink.values():
            method.destroy()
        dispose(stream)

    deadline = loop.call_later(idle, watch)
    piped = stream.pipeTo(js.WritableStream.new(to_js_object(sink)), to_js_object({"signal": aborter.signal}))
    piped.then(release, release)  # settles after close or abort, whichever ends the pipe
    return feed
