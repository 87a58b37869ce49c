"""api.ports.Inference over the Workers AI binding (or the local stand-in, bound the same way)."""
import codecs
import re
from typing import AsyncIterator, Optional, Union

from pyodide.ffi import JsException, JsProxy

from api.errors import UpstreamError, workers_ai_error
from cf.binary import JsBinary
from cf.convert import to_js_object, to_py

_CODE = re.compile(r"(\d{4}):\s*(.*)", re.S)


def _error(exc: JsException, model: str):
    # InferenceUpstreamError's message is "<internal code>: <description>"; the code is the contract.
    found = _CODE.search(str(exc))
    if not found:
        return UpstreamError(f"Workers AI failed for {model}.")
    return workers_ai_error(int(found[1]), found[2].strip(), model)


class WorkersAI:

    def __init__(self, binding):
        self._ai = binding

    async def _call(self, model: str, inputs: dict, options: Optional[dict]):
        try:
            return await self._ai.run(model, to_js_object(inputs), to_js_object(options or {}))
        except JsException as exc:
            raise _error(exc, model) from None

    async def run(self, model: str, inputs: dict, options: Optional[dict] = None):
        result = await self._call(model, inputs, options)
        if isinstance(result, JsProxy) and hasattr(result, "getReader"):  # images, audio
            return JsBinary(result, "application/octet-stream")
        return to_py(result)

    async def stream(self, model: str, inputs: dict, options: Optional[dict] = None) -> Union[dict, AsyncIterator[str]]:
        result = await self._call(model, inputs, options)
        if not hasattr(result, "getReader"):
            return to_py(result)  # some models answer a stream request with the whole result
        return self._texts(result, model)

    @staticmethod
    async def _texts(stream, model: str) -> AsyncIterator[str]:
        reader = stream.getReader()
        decoder = codecs.getincrementaldecoder("utf-8")()
        finished = False
        try:
            while True:
                chunk = await reader.read()
                if chunk.done:
                    finished = True
                    break
                yield decoder.decode(chunk.value.to_bytes())
        except JsException as exc:
            finished = True
            raise _error(exc, model) from None
        finally:
            if not finished:  # the consumer stopped early (stop sequence, client gone): stop generating
                await reader.cancel()
            reader.releaseLock()
