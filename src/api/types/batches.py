"""BatchCreateParams and BatchListParams, with OpenAI's values and ranges."""
from typing import Literal, Optional

from pydantic.v1 import StrictStr, conint, validator

from api.types.common import Metadata, Params, at_most_16
from api.types.files import MAX_EXPIRY_SECONDS, MIN_EXPIRY_SECONDS

# The endpoints a batch may run (OpenAI's others — images, videos — have no batch support here).
Endpoint = Literal["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/moderations"]


class OutputExpiresAfter(Params):
    anchor: Literal["created_at"]  # the output file's creation, not the batch's
    seconds: conint(strict=True, ge=MIN_EXPIRY_SECONDS, le=MAX_EXPIRY_SECONDS)


class BatchCreateParams(Params):
    input_file_id: StrictStr
    endpoint: Endpoint
    completion_window: Literal["24h"]  # the only window OpenAI offers
    metadata: Optional[Metadata] = None
    output_expires_after: Optional[OutputExpiresAfter] = None

    _metadata_size = validator("metadata", allow_reuse=True)(at_most_16)


class BatchListParams(Params):
    after: Optional[StrictStr] = None
    limit: conint(strict=True, ge=1, le=100) = 20

    @property
    def order(self) -> str:
        return "desc"  # newest first, as OpenAI lists batches (the list takes no `order`)
