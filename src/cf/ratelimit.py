"""api.ports.RateLimiter over the Workers Rate Limiting binding ([[ratelimits]] in wrangler.toml)."""
from pyodide.ffi import JsException

from cf.convert import to_js_object


class RateLimit:
    def __init__(self, binding, log):
        self._binding, self._log = binding, log

    async def limit(self, key: str, delta: int) -> bool:
        try:
            outcome = await self._binding.limit(to_js_object({"key": key, "delta": delta}))
        except JsException as exc:
            # The limiter is a guard (per location, eventually consistent): when it cannot answer,
            # serving beats refusing everyone; the log says so.
            self._log(f"ratelimit: binding failed, request admitted: {exc}")
            return True
        return bool(outcome.success)
