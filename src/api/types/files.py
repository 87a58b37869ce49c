"""FileCreateParams (multipart fields; `file` is an Upload checked by the handler) and
FileListParams (query string), with OpenAI's values and ranges."""
from typing import Any, Literal, Optional

from pydantic.v1 import Field, StrictStr, conint

from api.types.common import Params

# What a client may upload for; OpenAI's own outputs (batch_output, …) are not uploadable.
FilePurpose = Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]
MIN_EXPIRY_SECONDS = 3600  # OpenAI's range for expires_after.seconds: one hour …
MAX_EXPIRY_SECONDS = 2592000  # … to 30 days
BATCH_EXPIRY_SECONDS = MAX_EXPIRY_SECONDS  # OpenAI: batch files expire after 30 days by default
MAX_LIST_LIMIT = 10000  # OpenAI's range for `limit` is 1..10000, and 10000 is its default


class ExpiresAfter(Params):
    anchor: Literal["created_at"]
    seconds: conint(strict=True, ge=MIN_EXPIRY_SECONDS, le=MAX_EXPIRY_SECONDS)


class FileCreateParams(Params):
    file: Any = Field(...)  # an Upload; Any alone would make it optional
    purpose: FilePurpose
    expires_after: Optional[ExpiresAfter] = None


class FileListParams(Params):
    purpose: Optional[StrictStr] = None
    limit: conint(strict=True, ge=1, le=MAX_LIST_LIMIT) = MAX_LIST_LIMIT
    order: Literal["asc", "desc"] = "desc"
    after: Optional[StrictStr] = None
