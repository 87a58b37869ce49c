"""Workers AI text generation inputs: OpenAI sampling parameters mapped to the model's fields
(outputs are normalised in api.generation.outputs)."""
from typing import Optional

from api.catalog import ModelSpec
from api.errors import InvalidRequest
from api.types.common import SamplingParams

# Native models silently stop at 256 tokens unless told otherwise; OpenAI's default is "as many
# as fit", so we ask for this many when the caller sets no limit.
DEFAULT_MAX_TOKENS = 4096
NATIVE_SEED_MAX = 9_999_999_999  # native models take seeds in 1..this


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
