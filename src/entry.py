"""The Worker: fetch → api.app.handle, queue → api.jobs.consume, scheduled → api.jobs.sweep. Binding names live here and in wrangler.toml."""
from workers import WorkerEntrypoint, import_from_javascript

from api import app, jobs, ssrf
from api.catalog import parse_aliases, timeouts
from api.ports import Config, Deps, Isolate
from cf import faults, http, queues
from cf.ai import WorkersAI
from cf.d1 import D1
from cf.r2 import R2
from cf.ratelimit import RateLimit
from cf.vectorize import Vectorize
from cf.web import Web

ISOLATE = Isolate()  # empty when the module is imported (and snapshotted); filled by requests


def _config(env) -> Config:
    """The vars, parsed once per isolate and value: parsing is cheap but needless on every request."""
    names = ("MODEL_ALIASES", "LOCAL_DEV_KEY", "URL_SIGNING_KEY", "URL_TTL_SECONDS", "RUNS_INLINE",
             "ALLOWED_PRIVATE_ORIGINS")
    key = tuple(getattr(env, name, None) for name in names)
    if key not in ISOLATE.configs:
        aliases, local_key, signing_key, ttl, inline, private_origins = key
        ISOLATE.configs[key] = Config(model_aliases=parse_aliases(aliases), local_dev_key=local_key or None,
                                      url_signing_key=signing_key or None, url_ttl_seconds=int(ttl or 3600),
                                      runs_inline=inline in ("1", "true"),
                                      allowed_private_origins=ssrf.origins(private_origins))
    return ISOLATE.configs[key]


class Default(WorkerEntrypoint):
    def _deps(self, env) -> Deps:
        config = _config(env)
        return Deps(ai=WorkersAI(env.AI, timeouts), db=D1(env.DB), jobs=queues.Queue(env.JOBS), runs=queues.Queue(env.RUNS),
                    web=Web(config.allowed_private_origins), blobs=R2(env.BUCKET), vectors=Vectorize(env.VECTORIZE),
                    limiter=RateLimit(env.RPM, print), config=config, defer=self.ctx.waitUntil, isolate=ISOLATE,
                    dispatch=app.dispatch)

    async def fetch(self, request):
        env = _bindings()
        deps = self._deps(env)
        if deps.config.local_dev_key:  # the local environment: its test-only fault injection
            header = request.js_object.headers.get(faults.HEADER)
            deps = faults.for_request(deps, header if isinstance(header, str) else "", env)
        response = await app.handle(await http.api_request(request), deps)
        return http.js_response(response, deps)

    async def queue(self, batch, env=None, ctx=None):
        bindings = _bindings()
        deps = self._deps(bindings)
        if deps.config.local_dev_key:
            await faults.consume(batch, deps, bindings)
        else:
            await queues.consume(batch, deps)

    async def scheduled(self, controller, env=None, ctx=None):
        await jobs.sweep(self._deps(_bindings()))


def _bindings():
    # The raw JS bindings: the adapters in cf/ convert values themselves, once, which is far
    # cheaper than the SDK wrappers' generic per-value conversion.
    return import_from_javascript("cloudflare:workers").env
