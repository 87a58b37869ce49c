"""POST /v1/embeddings: every input embedded (batched to the model's limit), in order."""
import asyncio
import base64
import math
import struct
from typing import List

from api import catalog, tokens, usage
from api.catalog import ModelSpec
from api.errors import InvalidRequest, UpstreamError
from api.ports import Deps
from api.types.embeddings import MAX_INPUTS, EmbeddingCreateParams
from api.validate import parse_request
from api.web import ApiRequest, ApiResponse


def _texts(params: EmbeddingCreateParams) -> List[str]:
    texts = [params.input] if isinstance(params.input, str) else params.input
    if not texts or len(texts) > MAX_INPUTS:
        raise InvalidRequest(f"'input' must hold 1 to {MAX_INPUTS} strings.", param="input")
    for index, text in enumerate(texts):
        if not text:
            raise InvalidRequest("'input' must not contain empty strings.",
                                 param="input" if isinstance(params.input, str) else f"input[{index}]")
    return texts


def _dimensions(requested, spec: ModelSpec):
    """OpenAI shortens text-embedding-3 vectors on request; we do the same (truncate and
    renormalise) only for models trained for it, and refuse for the others."""
    if requested is None or requested == spec.dims:
        return None
    if not spec.matryoshka:
        raise InvalidRequest(f"'dimensions' is not supported by {spec.id}, whose vectors have "
                             f"{spec.dims} dimensions.", param="dimensions",
                             code="unsupported_parameter")
    if requested > spec.dims:
        raise InvalidRequest(f"'dimensions' must be at most {spec.dims} for {spec.id}.",
                             param="dimensions", code="invalid_value")
    return requested


def shorten(vector: List[float], dims: int) -> List[float]:
    head = vector[:dims]
    norm = math.sqrt(sum(x * x for x in head)) or 1.0
    return [x / norm for x in head]


def encode(vector: List[float], encoding_format: str):
    if encoding_format == "base64":  # little-endian float32, as OpenAI sends it
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


async def create_embedding(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(EmbeddingCreateParams, req)
    texts = _texts(params)
    spec = catalog.resolve(params.model, catalog.EMBEDDINGS, deps.config.model_aliases)
    dims = _dimensions(params.dimensions, spec)
    batches = [texts[i:i + spec.max_batch] for i in range(0, len(texts), spec.max_batch)]
    results = await asyncio.gather(*(deps.ai.run(spec.id, {"text": b}) for b in batches))
    vectors = [v for result in results for v in ((result.get("data") if isinstance(result, dict) else None) or [])]
    if len(vectors) != len(texts):
        raise UpstreamError(f"Workers AI returned {len(vectors)} embeddings for {len(texts)} inputs.")
    if dims:
        vectors = [shorten(v, dims) for v in vectors]
    used = usage.Usage(prompt_tokens=sum(tokens.estimate(t) for t in texts))
    usage.record(usage.Meter.of(req), deps, spec.id, used)
    return ApiResponse({
        "object": "list", "model": spec.id,
        "data": [{"object": "embedding", "index": i, "embedding": encode(v, params.encoding_format)}
                 for i, v in enumerate(vectors)],
        "usage": {"prompt_tokens": used.prompt_tokens, "total_tokens": used.prompt_tokens},
    })
