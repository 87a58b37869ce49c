"""POST /v1/embeddings: every input embedded (batched to the model's limit), in order. Token-id
input is decoded to text first, for OpenAI's model names (api.token_ids)."""
import base64
import math
import struct
from typing import List, Tuple, Union

from api import catalog, limits, tasks, token_ids, tokens, usage
from api.catalog import ModelSpec
from api.errors import InvalidRequest, UpstreamError
from api.ports import Deps
from api.types.embeddings import MAX_INPUTS, EmbeddingCreateParams
from api.validate import parse_request
from api.web import ApiRequest, ApiResponse


def _inputs(params: EmbeddingCreateParams) -> List[Union[str, List[int]]]:
    """The inputs as a list: strings, or token-id lists (a flat list of ints is one input)."""
    if isinstance(params.input, str):
        return [params.input]
    if params.input and isinstance(params.input[0], int):
        return [params.input]
    return params.input


def _texts(params: EmbeddingCreateParams) -> Tuple[List[str], int]:
    """The texts to embed and, for token-id input, how many ids were sent (0 otherwise)."""
    inputs = _inputs(params)
    if not inputs or len(inputs) > MAX_INPUTS:
        raise InvalidRequest(f"'input' must hold 1 to {MAX_INPUTS} strings.", param="input")
    flat = inputs is not params.input  # a string or one token-id list: the param is `input` itself
    ids = isinstance(inputs[0], list)
    for index, value in enumerate(inputs):
        if not value:
            raise InvalidRequest(f"'input' must not contain empty {'token lists' if ids else 'strings'}.",
                                 param="input" if flat else f"input[{index}]")
    if not ids:
        return inputs, 0
    if params.model not in token_ids.CL100K_MODELS:
        raise InvalidRequest(f"Token-id input needs an OpenAI embedding model name ("
                             f"{', '.join(token_ids.CL100K_MODELS)}), whose ids we decode with "
                             f"cl100k_base; `{params.model}` takes text.", param="input",
                             code="unsupported_parameter")
    texts = [token_ids.decode(value, "input" if flat else f"input[{index}]")
             for index, value in enumerate(inputs)]
    return texts, sum(len(value) for value in inputs)


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
    texts, sent_ids = _texts(params)
    spec = limits.resolve_model(req, deps, params.model, catalog.EMBEDDINGS)
    dims = _dimensions(params.dimensions, spec)
    batches = [texts[i:i + spec.max_batch] for i in range(0, len(texts), spec.max_batch)]
    results = await tasks.gather(*(deps.ai.run(spec.id, {"text": b}) for b in batches))
    vectors = [v for result in results for v in ((result.get("data") if isinstance(result, dict) else None) or [])]
    if len(vectors) != len(texts):
        raise UpstreamError(f"Workers AI returned {len(vectors)} embeddings for {len(texts)} inputs.")
    if dims:
        vectors = [shorten(v, dims) for v in vectors]
    used = usage.Usage(prompt_tokens=sent_ids or sum(tokens.estimate(t) for t in texts))
    usage.record(usage.Meter.of(req), deps, spec.id, used)
    return ApiResponse({
        "object": "list", "model": spec.id,
        "data": [{"object": "embedding", "index": i, "embedding": encode(v, params.encoding_format)}
                 for i, v in enumerate(vectors)],
        "usage": {"prompt_tokens": used.prompt_tokens, "total_tokens": used.prompt_tokens},
    })
