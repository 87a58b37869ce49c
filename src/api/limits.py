"""Per-key limits: requests per minute (the Rate Limiting binding), token budgets per UTC day and
month (usage totals read with the key, kept current in the isolate), and the models a key may use;
OpenAI's 429s and x-ratelimit-* headers for them. Imports the stdlib and api.* only."""
import calendar
import json
import math
import time
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from api import catalog
from api.catalog import ModelSpec
from api.errors import PermissionDenied, QuotaExceeded, RateLimited
from api.ports import Deps
from api.web import ApiKey, ApiRequest

# The RPM binding ([[ratelimits]] in wrangler.toml) counts to RPM_SCALE per RPM_PERIOD seconds for
# every key; a request of a key allowed N a minute adds ceil(RPM_SCALE / N), so N fit in the
# window (exactly when N divides RPM_SCALE or N(N-1) <= RPM_SCALE, else at most N).
RPM_PERIOD = 60
RPM_SCALE = 3_600_000
DAY = 86_400


@dataclass(frozen=True)
class KeyLimits:
    requests_per_minute: Optional[int] = None
    tokens_per_day: Optional[int] = None
    tokens_per_month: Optional[int] = None
    models: Optional[Tuple[str, ...]] = None  # names or ids; None = every model

    @classmethod
    def of_row(cls, row: dict) -> Optional["KeyLimits"]:
        """From a key_limits row (its columns may be absent or NULL); None when nothing is limited."""
        models = row.get("models")
        limits = cls(row.get("requests_per_minute"), row.get("tokens_per_day"), row.get("tokens_per_month"),
                     None if models is None else tuple(json.loads(models)))
        return None if limits == cls() else limits

    @property
    def budgets(self) -> bool:
        return self.tokens_per_day is not None or self.tokens_per_month is not None


class Spend:
    """A key's tokens this UTC day and month: the totals D1 had when the key was read, plus what
    this isolate has recorded since (usage reaches D1 through the Queue, seconds later)."""

    def __init__(self, day: str, day_tokens: int, month_tokens: int):
        self.day, self.day_tokens, self.month_tokens = day, day_tokens, month_tokens

    def roll(self, day: str) -> None:
        if day[:7] != self.day[:7]:
            self.month_tokens = 0
        if day != self.day:
            self.day, self.day_tokens = day, 0

    def add(self, day: str, tokens: int) -> None:
        self.roll(day)
        self.day_tokens += tokens
        self.month_tokens += tokens

    def merge(self, day: str, day_tokens: int, month_tokens: int) -> None:
        """Fresh totals from D1. The larger count wins: D1 has other isolates' usage, we have
        ours that may still be on the Queue."""
        self.roll(day)
        self.day_tokens = max(self.day_tokens, day_tokens)
        self.month_tokens = max(self.month_tokens, month_tokens)


def utc_day(now: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(now))


def _next_month(now: float) -> float:
    year, month = time.gmtime(now)[:2]
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return float(calendar.timegm((year, month, 1, 0, 0, 0)))


def remember_spend(deps: Deps, key_id: str, day: str, day_tokens: int, month_tokens: int) -> None:
    """The totals read with the key (api.auth)."""
    spend = deps.isolate.spend.get(key_id)
    if spend is None:
        deps.isolate.spend[key_id] = Spend(day, day_tokens, month_tokens)
    else:
        spend.merge(day, day_tokens, month_tokens)


def count_tokens(deps: Deps, key_id: str, tokens: int) -> None:
    """Tokens just recorded for a key (api.usage), counted against its budgets at once."""
    spend = deps.isolate.spend.get(key_id)
    if spend is not None:
        spend.add(utc_day(deps.now()), tokens)


# --- requests per minute -------------------------------------------------------------------------

def _window(deps: Deps) -> Tuple[int, float]:
    """(this minute's number, seconds until the next). The binding's windows are wall-clock minutes
    in wrangler dev; Cloudflare does not document their alignment in production."""
    now = deps.now()
    return int(now // RPM_PERIOD), RPM_PERIOD - now % RPM_PERIOD


async def admit(req: ApiRequest, deps: Deps) -> None:
    """Counts the request against its key's requests per minute; 429 rate_limit_exceeded when full."""
    limits = req.key.limits if req.key else None
    if limits is None or limits.requests_per_minute is None:
        return
    allowed = limits.requests_per_minute
    epoch, reset = _window(deps)
    if await deps.limiter.limit(req.key.id, math.ceil(RPM_SCALE / max(allowed, 1))):
        seen = deps.isolate.requests.get(req.key.id)
        count = seen[1] + 1 if seen and seen[0] == epoch else 1
        deps.isolate.requests[req.key.id] = (epoch, count)
        return
    deps.isolate.requests[req.key.id] = (epoch, allowed)
    wait = max(1, math.ceil(reset))
    raise RateLimited(f"Rate limit reached for requests per min (RPM) of key {req.key.id}: limit {allowed}. "
                      f"Please try again in {wait}s.", code="rate_limit_exceeded",
                      headers={"retry-after": str(wait)})


# --- models and token budgets --------------------------------------------------------------------

def resolve_model(req: ApiRequest, deps: Deps, name: str, task: str) -> ModelSpec:
    """The model for a request that runs one: catalog.resolve, then check_model. Every resource
    resolves its model here, so a key's limits apply to all of them."""
    spec = catalog.resolve(name, task, deps.config.model_aliases)
    check_model(req, deps, spec.id, name)
    return spec


def check_model(req: ApiRequest, deps: Deps, model_id: str, name: str) -> None:
    """The key may use the model (`name` as the client called it), and has tokens left."""
    limits = req.key.limits if req.key else None
    if limits is None:
        return
    if not allows(limits, model_id, deps):
        # OpenAI answers a project's model restriction with a 403 whose code is model_not_found.
        raise PermissionDenied(f"Key `{req.key.id}` does not have access to model `{name}`.", param="model",
                               code="model_not_found")
    budget = _tightest(req.key, deps)
    if budget and budget[1] <= 0:
        limit, _, reset, period = budget
        wait = max(1, math.ceil(reset))
        raise QuotaExceeded(f"You exceeded the token budget of key {req.key.id}: {limit} tokens per {period}. "
                            f"It renews in {duration(reset)}.", headers={"retry-after": str(wait)})


def allows(limits: Optional[KeyLimits], model_id: str, deps: Deps) -> bool:
    """A model is allowed when it is, or is an alias of, the same Workers AI model as a listed one."""
    if limits is None or limits.models is None:
        return True
    aliases = catalog.aliases(deps.config.model_aliases)
    return model_id in {aliases.get(name, name) for name in limits.models}


def _tightest(key: ApiKey, deps: Deps) -> Optional[Tuple[int, int, float, str]]:
    """(limit, remaining, seconds to renewal, "day"|"month") of the budget with the least left."""
    spend = deps.isolate.spend.get(key.id)
    now = deps.now()
    if spend is None or not key.limits.budgets:
        return None
    spend.roll(utc_day(now))
    candidates = []
    if key.limits.tokens_per_day is not None:
        limit = key.limits.tokens_per_day
        candidates.append((limit, limit - spend.day_tokens, DAY - now % DAY, "day"))
    if key.limits.tokens_per_month is not None:
        limit = key.limits.tokens_per_month
        candidates.append((limit, limit - spend.month_tokens, _next_month(now) - now, "month"))
    return min(candidates, key=lambda budget: budget[1])


# --- headers -------------------------------------------------------------------------------------

def duration(seconds: float) -> str:
    """OpenAI's x-ratelimit-reset-* format: 1s, 6m0s, 13h5m2s, 250ms."""
    if seconds < 1:
        return f"{max(0, int(seconds * 1000))}ms"
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def headers(req: ApiRequest, deps: Deps) -> Dict[str, str]:
    """x-ratelimit-* for a key with limits. Requests: this isolate's count in the binding's current
    window (the binding tells only yes or no; other isolates' requests are not in it, so the
    remaining count is an upper bound). Tokens: the budget with the least left."""
    limits = req.key.limits if req.key else None
    if limits is None:
        return {}
    found = {}
    if limits.requests_per_minute is not None:
        epoch, reset = _window(deps)
        seen = deps.isolate.requests.get(req.key.id)
        used = seen[1] if seen and seen[0] == epoch else 0
        found.update({"x-ratelimit-limit-requests": str(limits.requests_per_minute),
                      "x-ratelimit-remaining-requests": str(max(0, limits.requests_per_minute - used)),
                      "x-ratelimit-reset-requests": duration(reset)})
    budget = _tightest(req.key, deps)
    if budget:
        limit, remaining, reset, _ = budget
        found.update({"x-ratelimit-limit-tokens": str(limit), "x-ratelimit-remaining-tokens": str(max(0, remaining)),
                      "x-ratelimit-reset-tokens": duration(reset)})
    return found
