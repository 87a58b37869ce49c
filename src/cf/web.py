"""api.ports.Web over the runtime's fetch: only public URLs (api.ssrf checks each hop, redirects
are followed by hand), read with a size cap and one time limit for all hops, never unbounded."""
from typing import FrozenSet, Tuple

import js
from pyodide.ffi import JsException

from api import ssrf
from api.errors import InvalidRequest
from cf.convert import to_js_object

TIMEOUT_MS = 10_000


class Web:
    def __init__(self, allowed_private_origins: FrozenSet[str] = frozenset()):
        self.allowed = allowed_private_origins

    async def fetch_bytes(self, url: str, max_bytes: int) -> Tuple[bytes, str]:
        signal = js.AbortSignal.timeout(TIMEOUT_MS)

        async def get(checked: str) -> ssrf.Hop:
            try:
                # The runtime's own parse of the URL is what it connects to: check that one too.
                href = js.URL.new(checked).href
                ssrf.check_url(href, self.allowed)
                response = await js.fetch(href, to_js_object({"redirect": "manual", "signal": signal}))
                return await _hop(response, href, max_bytes)
            except JsException:
                raise InvalidRequest(f"Could not fetch {checked[:200]}.", code="invalid_image_url") from None
        return await ssrf.fetch(get, url, self.allowed)


async def _hop(response, url: str, max_bytes: int) -> ssrf.Hop:
    content_type = response.headers.get("content-type") or ""
    if not 200 <= response.status < 300:
        if response.body:
            await response.body.cancel()
        return ssrf.Hop(response.status, response.headers.get("location"), content_type)
    if int(response.headers.get("content-length") or 0) > max_bytes:
        await response.body.cancel()
        raise _too_large(url, max_bytes)
    reader, parts, size = response.body.getReader(), [], 0
    while True:
        chunk = await reader.read()
        if chunk.done:
            break
        size += chunk.value.length
        if size > max_bytes:
            await reader.cancel()
            raise _too_large(url, max_bytes)
        parts.append(chunk.value.to_bytes())
    return ssrf.Hop(response.status, None, content_type, b"".join(parts))


def _too_large(url: str, max_bytes: int) -> InvalidRequest:
    return InvalidRequest(f"{url[:200]} is over {max_bytes} bytes.", code="image_too_large")
