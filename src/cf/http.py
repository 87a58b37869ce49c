"""workers Request → ApiRequest, and ApiResponse/StreamResponse → JS Response (a stream's frames are
enqueued into the body's ReadableStream as they are produced)."""
import asyncio
import json
from collections.abc import Mapping
from contextlib import aclosing, suppress
from urllib.parse import parse_qsl, urlsplit

import js
from pyodide.ffi import JsException, create_proxy, jsnull, to_js

from api import multipart
from api.errors import InvalidRequest
from api.ports import Deps
from api.web import MAX_BODY, MAX_UPLOAD, ApiRequest, StreamResponse
from cf.binary import JsBinary, upload
from cf.convert import to_js_object


class Headers(Mapping):
    """Read-only view of the JS Headers: the core reads a few names, so nothing is copied."""

    def __init__(self, headers):
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        value = self._headers.get(name)
        if value is None or value is jsnull:
            raise KeyError(name)
        return value

    def __iter__(self):
        return iter(self._headers.keys())

    def __len__(self) -> int:
        return sum(1 for _ in self)


async def api_request(request) -> ApiRequest:
    raw = request.js_object
    headers = Headers(raw.headers)
    url = urlsplit(raw.url)
    req = ApiRequest(method=raw.method, path=url.path, headers=headers, query=dict(parse_qsl(url.query)),
                     origin=f"{url.scheme}://{url.netloc}")
    multipart = headers.get("content-type", "").lower().startswith("multipart/form-data")
    limit = MAX_UPLOAD if multipart else MAX_BODY
    if multipart:
        req.form = {}
    if int(headers.get("content-length") or 0) > limit:
        req.oversized = True  # refused by the core without keeping it; drained in JS so that the
        await raw.body.pipeTo(js.WritableStream.new())  # client, still uploading, reads the 413
    elif multipart:
        await _read_form(raw, req)
    elif raw.body:
        req.body = (await raw.arrayBuffer()).to_bytes()
        req.oversized = len(req.body) > limit
    return req


async def _read_form(raw, req: ApiRequest) -> None:
    """The runtime parses multipart natively (file parts stay JS Files, not copied into Python),
    once the body has streamed through api.multipart's framing check on its way in."""
    try:
        boundary = multipart.boundary_of(req.headers.get("content-type", ""))
    except InvalidRequest as exc:
        req.form_error = exc.message
        if raw.body:
            await raw.body.pipeTo(js.WritableStream.new())
        return
    if not raw.body:
        req.form_error = "The multipart/form-data body is empty."
        return
    pipe = js.TransformStream.new()
    # Parsed with the boundary we checked, whatever else the client's content type says.
    headers = {"content-type": f'multipart/form-data; boundary="{boundary}"'}
    parsed = js.Response.new(pipe.readable, to_js_object({"headers": headers})).formData()
    gate = _FormGate(multipart.FramingCheck(boundary))
    await gate.run(raw.body, pipe.writable.getWriter())
    try:
        form = await parsed
    except JsException:
        req.oversized = gate.size > MAX_UPLOAD
        req.form_error = gate.refusal or "The multipart/form-data body could not be parsed."
        return
    for entry in form.entries():
        name, value = entry[0], entry[1]
        req.form.setdefault(name, []).append(value if isinstance(value, str) else upload(value))


# A multipart body is read this much at a time (readAtLeast): the runtime's own chunks are ~4 KB,
# and a Python call for each cost ~40 ms of CPU per 4 MB upload (bench/image_edit.py).
FORM_READ_BYTES = 256 * 1024


class _FormGate:
    """Passes a multipart body on to the runtime's form parser while the framing check and the size
    limit accept it. After a refusal it reads (and drops) the rest, so that the client, still
    uploading, reads our answer, then fails the parse."""

    def __init__(self, check: multipart.FramingCheck):
        self.check, self.size, self.refusal = check, 0, None

    async def run(self, body, writer) -> None:
        reader = body.getReader(to_js_object({"mode": "byob"}))
        try:
            while True:
                read = await reader.readAtLeast(FORM_READ_BYTES, js.Uint8Array.new(FORM_READ_BYTES))
                if read.value:  # empty (falsy in Pyodide) at the end; a close may bring the last bytes
                    await self._pass(read.value, writer)
                if read.done:
                    break
        except JsException:  # the client went away, or the runtime's parser gave up on the body
            await writer.abort(js.Error.new("the body was not read to its end"))  # the parse ends too
            with suppress(JsException):  # cancelling a failed read fails again
                await reader.cancel()
            return
        if self.refusal is None:
            await writer.close()
        else:
            await writer.abort(js.Error.new(self.refusal))

    async def _pass(self, chunk, writer) -> None:
        self.size += chunk.length
        if self.refusal is None and self.size > MAX_UPLOAD:
            self.refusal = f"Request body too large: the limit is {MAX_UPLOAD} bytes."
        if self.refusal is None:
            try:
                self.check.feed(chunk.to_bytes())
            except InvalidRequest as exc:
                self.refusal = exc.message
        if self.refusal is None:
            await writer.write(chunk)


def js_response(response, deps: Deps):
    headers = dict(response.headers)
    if isinstance(response, StreamResponse):
        return js.Response.new(_Body(response, deps).readable,
                               to_js_object({"status": response.status, "headers": headers}))
    body = response.body
    if isinstance(body, (dict, list)):
        body = json.dumps(body, separators=(",", ":"))
        headers.setdefault("content-type", "application/json")
    elif isinstance(body, bytes):
        body = to_js(body)
    elif isinstance(body, JsBinary):
        body = body.stream()
    return js.Response.new(body, to_js_object({"status": response.status, "headers": headers}))


QUEUED_BYTES = 64 * 1024  # of frames the client has not read yet, before we hold the model back
SLOW_CLIENT_WAIT_MS = 10


class _Body:
    """A stream response's body: a ReadableStream that goes out at once, each frame enqueued into it
    as the frames, run as a task, produce it. No promise per frame crosses into Python (a writer's
    awaited write cost ~0.1 ms of CPU each, bench/cpu.py)."""

    def __init__(self, response: StreamResponse, deps: Deps):
        self.deps = deps
        self.on_cancel, on_start = create_proxy(self.cancel), create_proxy(self.start)
        strategy = js.ByteLengthQueuingStrategy.new(to_js_object({"highWaterMark": QUEUED_BYTES}))
        self.readable = js.ReadableStream.new(to_js_object({"start": on_start, "cancel": self.on_cancel}), strategy)
        on_start.destroy()
        self.task = asyncio.ensure_future(self.pump(response.events))
        deps.defer(self.task)  # a client that leaves cancels it: its finally blocks (usage) still run

    def start(self, controller) -> None:
        self.controller, self.enqueue = controller, controller.enqueue

    async def pump(self, frames) -> None:
        try:
            async with aclosing(frames):
                async for frame in frames:
                    self.enqueue(to_js(frame.encode()))
                    while self.controller.desiredSize <= 0:  # the client reads slower than the model writes
                        await js.scheduler.wait(SLOW_CLIENT_WAIT_MS)
        except Exception as exc:  # noqa: BLE001 - frames turn errors into events: this is a bug, logged
            self.deps.log(f"stream failed: {type(exc).__name__}: {exc}")
        finally:
            self.on_cancel.destroy()
        self.controller.close()

    def cancel(self, *_) -> None:
        self.deps.log("stream: client disconnected")
        self.task.cancel()
