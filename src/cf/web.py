"""api.ports.Web over the runtime's fetch: public URLs read with a size cap, never unbounded."""
from typing import Tuple

import js
from pyodide.ffi import JsException

from api.errors import InvalidRequest

TIMEOUT_MS = 10_000


class Web:
    async def fetch_bytes(self, url: str, max_bytes: int) -> Tuple[bytes, str]:
        try:
            response = await js.fetch(url, signal=js.AbortSignal.timeout(TIMEOUT_MS))
        except JsException:
            raise InvalidRequest(f"Could not fetch {url}.", code="invalid_image_url") from None
        if not response.ok:
            raise InvalidRequest(f"Fetching {url} gave HTTP {response.status}.", code="invalid_image_url")
        declared = int(response.headers.get("content-length") or 0)
        if declared > max_bytes:
            raise InvalidRequest(f"{url} is over {max_bytes} bytes.", code="image_too_large")
        reader, parts, size = response.body.getReader(), [], 0
        while True:
            chunk = await reader.read()
            if chunk.done:
                break
            size += chunk.value.length
            if size > max_bytes:
                await reader.cancel()
                raise InvalidRequest(f"{url} is over {max_bytes} bytes.", code="image_too_large")
            parts.append(chunk.value.to_bytes())
        return b"".join(parts), response.headers.get("content-type") or ""
