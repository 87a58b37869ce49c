"""Workers AI text generation: model inputs from OpenAI parameters, and model outputs of every
shape (native {response}, OpenAI {choices}; whole or streamed) normalised in one place."""
from dataclasses import dataclass
from typing import AsyncIterator, Dict, Optional, Tuple

from api import sse, tokens
from api.catalog import ModelSpec
from api.errors import InvalidRequest, UpstreamError
from api.types.common import SamplingParams

# Native models silently stop at 256 tokens unless told otherwise; OpenAI's default is "as many
# as fit", so we ask for this many when the caller sets no limit.
DEFAULT_MAX_TOKENS = 4096
NATIVE_SEED_MAX = 9_999_999_999  # native models take seeds in 1..this


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @classmethod
    def parse(cls, raw) -> Optional["Usage"]:
        if not isinstance(raw, dict):
            return None
        return cls(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(self.prompt_tokens + other.prompt_tokens,
                     self.completion_tokens + other.completion_tokens)

    def wire(self) -> Dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}


@dataclass
class Generation:
    text: str
    finish_reason: str
    usage: Usage


def max_tokens(params: SamplingParams, spec: ModelSpec) -> Optional[int]:
    """The output limit to send: the caller's, else ours for native models (see above)."""
    requested = getattr(params, "max_completion_tokens", None) or params.max_tokens
    if requested is None and spec.shape != "openai":
        return DEFAULT_MAX_TOKENS
    return requested


def inputs(params: SamplingParams, spec: ModelSpec, limit: Optional[int], **content) -> dict:
    """Model inputs for `content` (messages=... or prompt=...) with the sampling parameters mapped."""
    for name in ("frequency_penalty", "presence_penalty"):
        value = getattr(params, name)
        if value is not None and value < spec.penalty_min:
            raise InvalidRequest(f"Invalid value for '{name}': {spec.id} accepts "
                                 f"{spec.penalty_min:g} to 2.", param=name, code="invalid_value")
    seed = params.seed
    if seed is not None and spec.shape != "openai":
        seed = seed % NATIVE_SEED_MAX + 1  # same seed → same mapped seed, inside the model's range
    chosen = {"max_tokens": limit, "temperature": params.temperature, "top_p": params.top_p,
              "seed": seed, "frequency_penalty": params.frequency_penalty,
              "presence_penalty": params.presence_penalty}
    return {**content, **{k: v for k, v in chosen.items() if v is not None}}


def include_usage(params: SamplingParams) -> bool:
    """`stream_options` is allowed only with `stream: true`, as on OpenAI."""
    if params.stream_options is not None and not params.stream:
        raise InvalidRequest("The 'stream_options' parameter is only allowed when 'stream' is "
                             "enabled.", param="stream_options")
    return bool(params.stream_options and params.stream_options.include_usage)


def finish_reason(completion_tokens: int, limit: Optional[int]) -> str:
    """Native models report no finish reason: reaching the limit means the output was cut."""
    return "length" if limit and completion_tokens >= limit else "stop"


def text_of(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)  # some models stream numbers


def generation(result, limit: Optional[int], prompt_estimate: int) -> Generation:
    """Normalise a non-streamed result of either shape."""
    if not isinstance(result, dict):
        raise UpstreamError("Workers AI returned an unexpected result.")
    choices = result.get("choices")
    if choices:
        message = choices[0].get("message") or {}
        text = text_of(message.get("content"))
        reason = choices[0].get("finish_reason")
    elif "response" in result:
        text, reason = text_of(result["response"]), None
    else:
        raise UpstreamError("Workers AI returned a result without text.")
    usage = Usage.parse(result.get("usage")) or Usage(prompt_estimate, tokens.estimate(text))
    return Generation(text, reason or finish_reason(usage.completion_tokens, limit), usage)


@dataclass
class StreamedGeneration:
    """Text pieces of a streamed result of either shape; usage and finish reason once drained."""
    chunks: AsyncIterator[str]
    limit: Optional[int]
    prompt_estimate: int
    usage: Optional[Usage] = None
    reason: Optional[str] = None
    completion_estimate: int = 0

    async def texts(self) -> AsyncIterator[str]:
        async for event in sse.events(self.chunks):
            if "error" in event and not event.get("choices"):
                raise UpstreamError("Workers AI reported an error mid-stream.")
            if "response" in event:  # native chunk, or the cumulative trailer of OpenAI-shaped models
                text = text_of(event["response"])
                self.usage = Usage.parse(event.get("usage")) or self.usage
            elif event.get("choices"):
                # Per-chunk usage of OpenAI-shaped models is incremental: never taken as the total.
                choice = event["choices"][0]
                text = text_of((choice.get("delta") or {}).get("content"))
                self.reason = choice.get("finish_reason") or self.reason
            else:  # a choice-less chunk carries the totals, as OpenAI's include_usage chunk does
                text = ""
                self.usage = Usage.parse(event.get("usage")) or self.usage
            if text:
                self.completion_estimate += tokens.estimate(text)
                yield text

    def ending(self) -> Tuple[str, Usage]:
        """(finish reason, usage), once the texts are drained."""
        usage = self.usage or Usage(self.prompt_estimate, self.completion_estimate)
        return self.reason or finish_reason(usage.completion_tokens, self.limit), usage
