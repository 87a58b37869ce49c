"""Model catalog: the Workers AI models we serve per task, OpenAI-name aliases, retired ids.

Facts from Cloudflare's model pages as of 2026-10 (see shared notes workers-ai.md). A model's
`shape` says how it talks: "native" takes {messages|prompt} and returns {response, usage};
"choices" takes the native input but returns an OpenAI chat.completion; "openai" takes and
returns OpenAI chat-completions bodies.
"""
import json
from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Optional

from api.errors import InvalidRequest, ModelNotFound

CHAT, EMBEDDINGS = "chat", "embeddings"
MODERATION = "moderation"
SPEECH_TO_TEXT, TEXT_TO_SPEECH = "speech-to-text", "text-to-speech"
IMAGES = "images"  # sizes, steps and guidance per model: api.media.imaging
CREATED = 1767225600  # 2026-01-01: Workers AI publishes no per-model dates; one fixed value
RETIRED_ON = "2026-05-30"


# Chat model features (what the model can carry; everything else we refuse or emulate).
TOOLS = "tools"  # function calling
SHORT_TOOL_IDS = "short-tool-ids"  # tool_call_id must match [a-zA-Z0-9]{9} (llama-4, mistral)
JSON_MODE = "json-mode"  # response_format json_object / json_schema
VISION = "vision"  # image_url content parts (data: URIs)
IMAGE_FIELD = "image-field"  # vision through a top-level `image` field, one image (llama-3.2 vision)
REASONING = "reasoning"  # thinks by default; reasoning_effort and enable_thinking apply
THINK_TAGS = "think-tags"  # reasoning arrives inside <think>…</think> at the start of the text
NO_STREAM = "no-stream"  # the binding does not stream it: we call whole and stream the result
PENALTY_0 = "penalty-0"  # frequency/presence penalties only in 0..2
# Any model: Workers AI's asynchronous batch API takes it (`queueRequest`; features/batch-api).
ASYNC_BATCH = "async-batch"
# Audio model features.
STREAM_INPUT = "stream-input"  # takes audio as a stream input {body, contentType}; else a byte array
TRANSLATE = "translate"  # task "translate" (into English), language, initial_prompt; returns segments
SPEAKERS = "speakers"  # aura: a choice of speakers, encodings and containers; else MP3 only (melotts)


@dataclass(frozen=True)
class ModelSpec:
    id: str
    task: str
    shape: str = "native"  # chat only: native | choices | openai
    context: Optional[int] = None  # tokens
    features: FrozenSet[str] = frozenset()
    dims: int = 0  # embeddings only
    max_batch: int = 100  # embeddings: inputs per call
    matryoshka: bool = False  # embeddings: may be truncated to fewer `dimensions`

    @property
    def owned_by(self) -> str:
        return self.id.split("/")[1] if self.id.count("/") >= 2 else "cloudflare"

    def has(self, feature: str) -> bool:
        return feature in self.features

    @property
    def penalty_min(self) -> float:
        return 0.0 if self.has(PENALTY_0) else -2.0


@dataclass(frozen=True)
class Timeouts:
    """Seconds we wait on Workers AI, which has no client timeout of its own: for a whole answer
    (or a stream to start), and between two reads of a stream."""
    answer: float
    idle: float = 60.0


# Per task: a whole chat answer may be thousands of tokens of a big model; audio files are long.
TIMEOUTS = {CHAT: Timeouts(300.0), EMBEDDINGS: Timeouts(60.0), MODERATION: Timeouts(60.0),
            SPEECH_TO_TEXT: Timeouts(300.0), TEXT_TO_SPEECH: Timeouts(120.0), IMAGES: Timeouts(120.0)}


def timeouts(model_id: str) -> Timeouts:
    """For any model we are asked to run (an uncatalogued @cf/ id is most likely text generation)."""
    spec = BY_ID.get(model_id)
    return TIMEOUTS[spec.task if spec else CHAT]


def chat(model_id: str, shape: str, context: int, *features: str) -> ModelSpec:
    return ModelSpec(model_id, CHAT, shape, context, frozenset(features))


OPENAI_SHAPED = (TOOLS, JSON_MODE, REASONING)
QUEUEABLE = frozenset({ASYNC_BATCH})
MODELS: List[ModelSpec] = [
    chat("@cf/meta/llama-3.3-70b-instruct-fp8-fast", "native", 24000, TOOLS, JSON_MODE, ASYNC_BATCH),
    chat("@cf/meta/llama-3.1-8b-instruct-fast", "native", 32000, TOOLS, JSON_MODE, PENALTY_0),
    chat("@cf/meta/llama-4-scout-17b-16e-instruct", "native", 131000, TOOLS, SHORT_TOOL_IDS, JSON_MODE,
         VISION, PENALTY_0),
    chat("@cf/mistralai/mistral-small-3.1-24b-instruct", "native", 128000, TOOLS, SHORT_TOOL_IDS, VISION),
    chat("@cf/meta/llama-3.2-11b-vision-instruct", "native", 128000, IMAGE_FIELD),
    chat("@cf/qwen/qwq-32b", "native", 24000, REASONING),
    chat("@cf/qwen/qwen2.5-coder-32b-instruct", "native", 32768, TOOLS),
    chat("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", "native", 80000, JSON_MODE, REASONING, THINK_TAGS),
    chat("@cf/ibm-granite/granite-4.0-h-micro", "native", 131000, TOOLS),
    chat("@cf/aisingapore/gemma-sea-lion-v4-27b-it", "native", 128000, TOOLS),
    chat("@cf/qwen/qwen3-30b-a3b-fp8", "choices", 32768, TOOLS, JSON_MODE),
    chat("@cf/zai-org/glm-4.7-flash", "openai", 131072, *OPENAI_SHAPED),
    chat("@cf/google/gemma-4-26b-a4b-it", "openai", 256000, *OPENAI_SHAPED, VISION),
    chat("@cf/nvidia/nemotron-3-120b-a12b", "openai", 32000, *OPENAI_SHAPED),
    chat("@cf/moonshotai/kimi-k2.6", "openai", 256000, *OPENAI_SHAPED, VISION, NO_STREAM),
    chat("@cf/qwen/qwen3.8-27b", "openai", 262144, *OPENAI_SHAPED, VISION),
    chat("@cf/deepseek-ai/deepseek-v4-flash-0731", "openai", 1048576, *OPENAI_SHAPED),
    chat("@cf/openai/gpt-oss-120b", "openai", 128000, *OPENAI_SHAPED, NO_STREAM),
    chat("@cf/openai/gpt-oss-20b", "openai", 128000, *OPENAI_SHAPED, NO_STREAM),
    ModelSpec("@cf/baai/bge-small-en-v1.5", EMBEDDINGS, dims=384, context=512, features=QUEUEABLE),
    ModelSpec("@cf/baai/bge-base-en-v1.5", EMBEDDINGS, dims=768, context=512, features=QUEUEABLE),
    ModelSpec("@cf/baai/bge-large-en-v1.5", EMBEDDINGS, dims=1024, context=512, features=QUEUEABLE),
    ModelSpec("@cf/baai/bge-m3", EMBEDDINGS, dims=1024, context=60000, features=QUEUEABLE),
    ModelSpec("@cf/google/embeddinggemma-300m", EMBEDDINGS, dims=768, context=2048, matryoshka=True),
    ModelSpec("@cf/qwen/qwen3-embedding-0.6b", EMBEDDINGS, dims=1024, context=8192, max_batch=32,
              matryoshka=True),
    ModelSpec("@cf/meta/llama-guard-3-8b", MODERATION),
    ModelSpec("@cf/openai/whisper-large-v3-turbo", SPEECH_TO_TEXT, features=frozenset({STREAM_INPUT, TRANSLATE})),
    ModelSpec("@cf/openai/whisper", SPEECH_TO_TEXT),
    ModelSpec("@cf/openai/whisper-tiny-en", SPEECH_TO_TEXT),
    ModelSpec("@cf/deepgram/aura-1", TEXT_TO_SPEECH, features=frozenset({SPEAKERS})),
    ModelSpec("@cf/myshell-ai/melotts", TEXT_TO_SPEECH),
    ModelSpec("@cf/black-forest-labs/flux-1-schnell", IMAGES),
    ModelSpec("@cf/stabilityai/stable-diffusion-xl-base-1.0", IMAGES),
    ModelSpec("@cf/bytedance/stable-diffusion-xl-lightning", IMAGES),
    ModelSpec("@cf/lykon/dreamshaper-8-lcm", IMAGES),
    ModelSpec("@cf/leonardo/lucid-origin", IMAGES),
    ModelSpec("@cf/leonardo/phoenix-1.0", IMAGES),
    ModelSpec("@cf/runwayml/stable-diffusion-v1-5-img2img", IMAGES),
    ModelSpec("@cf/runwayml/stable-diffusion-v1-5-inpainting", IMAGES),
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
    "omni-moderation-latest": "@cf/meta/llama-guard-3-8b",
    "omni-moderation-2024-09-26": "@cf/meta/llama-guard-3-8b",
    "text-moderation-latest": "@cf/meta/llama-guard-3-8b",
    "text-moderation-stable": "@cf/meta/llama-guard-3-8b",
    "whisper-1": "@cf/openai/whisper-large-v3-turbo",
    "gpt-4o-transcribe": "@cf/openai/whisper-large-v3-turbo",
    "gpt-4o-mini-transcribe": "@cf/openai/whisper-large-v3-turbo",
    # aura-1 for every speech alias: it has voices to map OpenAI's onto and several formats.
    "tts-1": "@cf/deepgram/aura-1",
    "tts-1-hd": "@cf/deepgram/aura-1",
    "gpt-4o-mini-tts": "@cf/deepgram/aura-1",
    # Image generation: dall-e-2 → fast and any size; dall-e-3 → quality (hd) and style map onto
    # steps and guidance; gpt-image-1 → the strongest model. Edits and variations ignore the
    # name: they have one model each (api.resources.images).
    "dall-e-2": "@cf/bytedance/stable-diffusion-xl-lightning",
    "dall-e-3": "@cf/stabilityai/stable-diffusion-xl-base-1.0",
    "gpt-image-1": "@cf/leonardo/lucid-origin",
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
        raise InvalidRequest(f"The model `{name}` is not a{'n' if task[0] in 'aeiou' else ''} "
                             f"{task} model.", param="model", code="model_not_supported")
    return spec
