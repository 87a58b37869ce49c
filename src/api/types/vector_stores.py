"""Request bodies and query strings of /v1/vector_stores (stores, files, file batches, search),
named as in openai-python, with OpenAI's ranges."""
from typing import Dict, List, Literal, Optional, Union

from pydantic.v1 import StrictBool, StrictFloat, StrictInt, StrictStr, conint, constr, root_validator, validator

from api.types.common import Key, MAX_VALUE_LENGTH, Metadata, Object, Params, at_most_16 as _at_most_16, number

MAX_FILE_IDS = 500  # file_ids per create / file batch
MIN_CHUNK_TOKENS, MAX_CHUNK_TOKENS = 100, 4096
AUTO_CHUNK_TOKENS, AUTO_OVERLAP_TOKENS = 800, 400  # what `auto` means (OpenAI's defaults)
MAX_RESULTS = 50
MAX_QUERIES = 10  # query strings per search (ours: each is embedded and searched)
MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT = 100, 20

Attributes = Dict[Key, Union[StrictBool, StrictInt, StrictFloat,
                             constr(strict=True, max_length=MAX_VALUE_LENGTH)]]


class StaticChunking(Params):
    max_chunk_size_tokens: conint(strict=True, ge=MIN_CHUNK_TOKENS, le=MAX_CHUNK_TOKENS)
    chunk_overlap_tokens: conint(strict=True, ge=0)

    @root_validator(skip_on_failure=True)
    def _overlap_at_most_half(cls, values):
        if values["chunk_overlap_tokens"] > values["max_chunk_size_tokens"] // 2:
            raise ValueError("chunk_overlap_tokens must not exceed half of max_chunk_size_tokens")
        return values


class ChunkingStrategy(Params):
    type: Literal["auto", "static"]
    static: Optional[StaticChunking] = None

    @root_validator(skip_on_failure=True)
    def _static_needs_sizes(cls, values):
        if values["type"] == "static" and values.get("static") is None:
            raise ValueError("a static chunking_strategy needs `static`")
        return values

    def stored(self) -> dict:
        """As VectorStoreFile.chunking_strategy shows it: `auto` resolves to its static sizes."""
        if self.type == "static":
            return {"type": "static", "static": self.static.dict()}
        return {"type": "static", "static": {"max_chunk_size_tokens": AUTO_CHUNK_TOKENS,
                                             "chunk_overlap_tokens": AUTO_OVERLAP_TOKENS}}


AUTO = ChunkingStrategy(type="auto")


class ExpiresAfter(Params):
    anchor: Literal["last_active_at"]
    days: conint(strict=True, ge=1, le=365)


class VectorStoreCreateParams(Params):
    name: Optional[StrictStr] = None
    metadata: Optional[Metadata] = None
    file_ids: Optional[List[StrictStr]] = None
    expires_after: Optional[ExpiresAfter] = None
    chunking_strategy: Optional[ChunkingStrategy] = None
    _metadata = validator("metadata", allow_reuse=True)(_at_most_16)

    @validator("file_ids")
    def _file_ids(cls, value):
        if value is not None and len(value) > MAX_FILE_IDS:
            raise ValueError(f"at most {MAX_FILE_IDS} files may be attached at once")
        return value


class VectorStoreUpdateParams(Params):
    name: Optional[StrictStr] = None
    metadata: Optional[Metadata] = None
    expires_after: Optional[ExpiresAfter] = None
    _metadata = validator("metadata", allow_reuse=True)(_at_most_16)


class ListParams(Params):
    limit: conint(strict=True, ge=1, le=MAX_LIST_LIMIT) = DEFAULT_LIST_LIMIT
    order: Literal["asc", "desc"] = "desc"
    after: Optional[StrictStr] = None
    before: Optional[StrictStr] = None
    filter: Optional[Literal["in_progress", "completed", "failed", "cancelled"]] = None


class FileCreateParams(Params):
    file_id: StrictStr
    attributes: Optional[Attributes] = None
    chunking_strategy: Optional[ChunkingStrategy] = None
    _attributes = validator("attributes", allow_reuse=True)(_at_most_16)


class FileUpdateParams(Params):
    attributes: Optional[Attributes]
    _attributes = validator("attributes", allow_reuse=True)(_at_most_16)


class FileBatchCreateParams(Params):
    file_ids: Optional[List[StrictStr]] = None
    files: Optional[List[FileCreateParams]] = None
    attributes: Optional[Attributes] = None
    chunking_strategy: Optional[ChunkingStrategy] = None
    _attributes = validator("attributes", allow_reuse=True)(_at_most_16)

    @root_validator(skip_on_failure=True)
    def _one_list(cls, values):
        ids, files = values.get("file_ids"), values.get("files")
        if (ids is None) == (files is None):
            raise ValueError("give exactly one of file_ids and files")
        if not (ids or files) or len(ids or files) > MAX_FILE_IDS:
            raise ValueError(f"a batch holds 1 to {MAX_FILE_IDS} files")
        return values


class RankingOptions(Params):
    ranker: Optional[StrictStr] = None
    score_threshold: Optional[number(ge=0, le=1)] = None


class VectorStoreSearchParams(Params):
    query: Union[StrictStr, List[StrictStr]]
    max_num_results: conint(strict=True, ge=1, le=MAX_RESULTS) = 10
    filters: Optional[Object] = None  # checked by api.vector_stores.search.check_filter
    ranking_options: Optional[RankingOptions] = None
    rewrite_query: Optional[StrictBool] = None
