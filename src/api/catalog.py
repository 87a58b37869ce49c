"""Model catalog: the Workers AI models we serve per task, OpenAI-name aliases, retired ids.

Facts from Cloudflare's model pages as of 2026-10 (see shared notes workers-ai.md). A model's
`shape` says how it talks: "native" takes {messages|prompt} and returns {response, usage};
"choices" takes the native input but returns an OpenAI chat.completion; "openai" takes and
returns OpenAI chat-completions bodies.
"""
import json
from dataclasses import dataclass
from typing import Dict, List, Optional

from api.errors import InvalidRequest, ModelNotFound

CHAT, EMBEDDINGS = "chat", "embeddings"
CREATED = 1767225600  # 2026-01-01: Workers AI publishes no per-model dates; one fixed value
RETIRED_ON = "2026-05-30"


@dataclass(frozen=True)
class ModelSpec:
    id: str
    task: str
    shape: str = "native"  # chat only: native | choices | openai
    context: Optional[int] = None  # tokens
    penalty_min: float = -2.0  # some native models only take 0..2 penalties
    dims: int = 0  # embeddings only
    max_batch: int = 100  # embeddings: inputs per call
    matryoshka: bool = False  # embeddings: may be truncated to fewer `dimensions`

    @property
    def owned_by(self) -> str:
        return self.id.split("/")[1] if self.id.count("/") >= 2 else "cloudflare"


MODELS: List[ModelSpec] = [
    ModelSpec("@cf/meta/llama-3.3-70b-instruct-fp8-fast", CHAT, context=24000),
    ModelSpec("@cf/meta/llama-3.1-8b-instruct-fast", CHAT, context=32000, penalty_min=0.0),
    ModelSpec("@cf/meta/llama-4-scout-17b-16e-instruct", CHAT, context=131000, penalty_min=0.0),
    ModelSpec("@cf/mistralai/mistral-small-3.1-24b-instruct", CHAT, context=128000),
    ModelSpec("@cf/qwen/qwq-32b", CHAT, context=24000),
    ModelSpec("@cf/qwen/qwen2.5-coder-32b-instruct", CHAT, context=32768),
    ModelSpec("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", CHAT, context=80000),
    ModelSpec("@cf/ibm-granite/granite-4.0-h-micro", CHAT, context=131000),
    ModelSpec("@cf/aisingapore/gemma-sea-lion-v4-27b-it", CHAT, context=128000),
    ModelSpec("@cf/qwen/qwen3-30b-a3b-fp8", CHAT, shape="choices", context=32768),
    ModelSpec("@cf/zai-org/glm-4.7-flash", CHAT, shape="openai", context=131072),
    ModelSpec("@cf/google/gemma-4-26b-a4b-it", CHAT, shape="openai", context=256000),
    ModelSpec("@cf/nvidia/nemotron-3-120b-a12b", CHAT, shape="openai", context=32000),
    ModelSpec("@cf/moonshotai/kimi-k2.6", CHAT, shape="openai", context=256000),
    ModelSpec("@cf/qwen/qwen3.8-27b", CHAT, shape="openai", context=262144),
    ModelSpec("@cf/deepseek-ai/deepseek-v4-flash-0731", CHAT, shape="openai", context=1048576),
    ModelSpec("@cf/baai/bge-small-en-v1.5", EMBEDDINGS, dims=384, context=512),
    ModelSpec("@cf/baai/bge-base-en-v1.5", EMBEDDINGS, dims=768, context=512),
    ModelSpec("@cf/baai/bge-large-en-v1.5", EMBEDDINGS, dims=1024, context=512),
    ModelSpec("@cf/baai/bge-m3", EMBEDDINGS, dims=1024, context=60000),
    ModelSpec("@cf/google/embeddinggemma-300m", EMBEDDINGS, dims=768, context=2048, matryoshka=True),
    ModelSpec("@cf/qwen/qwen3-embedding-0.6b", EMBEDDINGS, dims=1024, context=8192, max_batch=32,
              matryoshka=True),
]
BY_ID: Dict[str, ModelSpec] = {m.id: m for m in MODELS}

DEFAULT_ALIASES: Dict[str, str] = {
    "gpt-4o-mini": "@cf/meta/llama-3.1-8b-instruct-fast",
    "gpt-3.5-turbo": "@cf/meta/llama-3.1-8b-instruct-fast",
    "gpt-3.5-turbo-instruct": "@cf/meta/llama-3.1-8b-instruct-fast",
    "gpt-4o": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "gpt-4": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "gpt-4.1": "@cf/meta/llama-4-scout-17b-16e-instruct",
    "gpt-4.1-mini": "@cf/zai-org/glm-4.7-flash",
    "text-embedding-ada-002": "@cf/baai/bge-base-en-v1.5",
    "text-embedding-3-small": "@cf/baai/bge-base-en-v1.5",
    "text-embedding-3-large": "@cf/baai/bge-large-en-v1.5",
}

# Retired by Workers AI on 2026-05-30 (plus every @hf/ model); kimi-k2.5 is silently served
# by the pricier kimi-k2.6 upstream, so we refuse it rather than surprise the bill.
RETIRED = {
    "@cf/meta/llama-3.1-8b-instruct", "@cf/meta/llama-3.1-8b-instruct-awq",
    "@cf/meta/llama-3.1-70b-instruct", "@cf/meta/llama-3-8b-instruct",
    "@cf/meta/llama-3-8b-instruct-awq", "@cf/meta/llama-2-7b-chat-int8",
    "@cf/meta/llama-2-7b-chat-fp16", "@cf/mistral/mistral-7b-instruct-v0.1",
    "@cf/google/gemma-3-12b-it", "@cf/microsoft/phi-2", "@cf/defog/sqlcoder-7b-2",
    "@cf/unum/uform-gen2-qwen-500m", "@cf/facebook/bart-large-cnn", "@cf/moonshotai/kimi-k2.5",
}


def parse_aliases(raw: Optional[str]) -> Dict[str, str]:
    """The MODEL_ALIASES variable: a JSON object of name → Workers AI model id."""
    if not raw:
        return {}
    aliases = json.loads(raw)
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        raise ValueError("MODEL_ALIASES must be a JSON object of strings")
    return aliases


def aliases(extra: Dict[str, str]) -> Dict[str, str]:
    return {**DEFAULT_ALIASES, **extra}


def ensure_current(name: str, model_id: str) -> None:
    if model_id in RETIRED or model_id.startswith("@hf/"):
        raise ModelNotFound(name, f"was retired by Workers AI on {RETIRED_ON}; "
                                  "see GET /v1/models for current models")


def resolve(name: str, task: str, extra_aliases: Dict[str, str]) -> ModelSpec:
    """The model to run for `name` on `task`: an alias, a catalog id, or any other @cf/ id."""
    model_id = aliases(extra_aliases).get(name, name)
    ensure_current(name, model_id)
    spec = BY_ID.get(model_id)
    if spec is None:
        if not model_id.startswith("@cf/"):
            raise ModelNotFound(name)
        # Uncatalogued Workers AI ids pass through; Workers AI itself says if it does not exist.
        spec = ModelSpec(model_id, task, shape="native")
    if spec.task != task:
        raise InvalidRequest(f"The model `{name}` is not a{'n' if task == EMBEDDINGS else ''} "
                             f"{task} model.", param="model", code="model_not_supported")
    return spec
