"""ImageGenerateParams, ImageEditParams, ImageCreateVariationParams (the last two from multipart
fields: files arrive as Upload values and are checked by the handler)."""
from typing import Any, Literal, Optional

from pydantic.v1 import Field, StrictStr, conint, constr

from api.types.common import Params

MAX_IMAGES = 4  # per request: one Workers AI call each, run in parallel
MAX_PROMPT = 32000  # OpenAI's longest (gpt-image-1); a model may take fewer (flux: 2048)
Quality = Literal["standard", "hd", "low", "medium", "high", "auto"]
ResponseFormat = Literal["url", "b64_json"]


class ImageGenerateParams(Params):
    prompt: constr(strict=True, min_length=1, max_length=MAX_PROMPT)
    model: Optional[StrictStr] = None
    n: Optional[conint(strict=True, ge=1, le=MAX_IMAGES)] = None
    size: Optional[StrictStr] = None
    quality: Optional[Quality] = None
    style: Optional[Literal["vivid", "natural"]] = None
    response_format: Optional[ResponseFormat] = None
    user: Optional[StrictStr] = None


class ImageEditParams(Params):
    image: Any = Field(...)  # an Upload; Any alone would make it optional
    mask: Optional[Any] = None
    prompt: constr(strict=True, min_length=1, max_length=MAX_PROMPT)
    model: Optional[StrictStr] = None
    n: Optional[conint(strict=True, ge=1, le=MAX_IMAGES)] = None
    size: Optional[StrictStr] = None
    response_format: Optional[ResponseFormat] = None
    user: Optional[StrictStr] = None


class ImageCreateVariationParams(Params):
    image: Any = Field(...)  # an Upload; Any alone would make it optional
    model: Optional[StrictStr] = None
    n: Optional[conint(strict=True, ge=1, le=MAX_IMAGES)] = None
    size: Optional[StrictStr] = None
    response_format: Optional[ResponseFormat] = None
    user: Optional[StrictStr] = None
