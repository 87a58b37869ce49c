"""What each Workers AI image model takes (sizes, steps, guidance, input kind) and the OpenAI
image parameters mapped onto it; model results (PNG stream or {image: base64}) turned into bytes.

Facts from the model schemas (shared notes workers-ai.md §2g, 2026-10): flux-1-schnell takes only
{prompt ≤ 2048 chars, steps ≤ 8} (additionalProperties: false); the Stable Diffusion family takes
width/height 256–2048 and num_steps ≤ 20; lucid-origin 0–2500 and num_steps ≤ 40; phoenix 0–2048
and num_steps ≤ 50.
"""
import base64
import binascii
import re
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from api.media import png
from api.errors import InvalidRequest, UpstreamError

GENERATE, IMG2IMG, INPAINT = "generate", "img2img", "inpaint"
MIN_SIDE = 256  # smallest side we ask for (OpenAI's smallest size; the schemas allow less for some)
Size = Tuple[int, int]


@dataclass(frozen=True)
class ImageModel:
    id: str
    mode: str = GENERATE  # GENERATE: text only; IMG2IMG: + image; INPAINT: + image and mask
    max_side: Optional[int] = 2048  # width/height limit; None: no width/height inputs at all
    native: Optional[Size] = (1024, 1024)  # what it makes when given no size; None: the input's
    steps_field: str = "num_steps"
    # quality → steps: (low, high); the model's own default serves standard/medium/auto. None: the
    # model is distilled to a fixed few steps, so quality has nothing to change and is refused.
    steps: Optional[Tuple[int, int]] = None
    # style → guidance: (natural, vivid). None: the model has no (meaningful) guidance.
    guidance: Optional[Tuple[float, float]] = None
    max_prompt: Optional[int] = None  # characters, where the schema sets a limit


FLUX = "@cf/black-forest-labs/flux-1-schnell"
IMG2IMG_MODEL = "@cf/runwayml/stable-diffusion-v1-5-img2img"
INPAINT_MODEL = "@cf/runwayml/stable-diffusion-v1-5-inpainting"
SD_STEPS, SD_GUIDANCE = (10, 20), (5.0, 10.0)  # SD defaults: 20 steps (also the max), guidance 7.5

PROFILES: Dict[str, ImageModel] = {m.id: m for m in [
    # flux-1-schnell refuses width/height, so it only makes its native square.
    ImageModel(FLUX, max_side=None, steps_field="steps", steps=(2, 8), max_prompt=2048),
    ImageModel("@cf/stabilityai/stable-diffusion-xl-base-1.0", steps=SD_STEPS, guidance=SD_GUIDANCE),
    ImageModel("@cf/bytedance/stable-diffusion-xl-lightning"),
    ImageModel("@cf/lykon/dreamshaper-8-lcm", native=(512, 512)),
    ImageModel("@cf/leonardo/lucid-origin", max_side=2500, native=(1120, 1120), steps=(2, 16),
               guidance=(3.0, 7.0)),
    ImageModel("@cf/leonardo/phoenix-1.0", steps=(12, 50), guidance=(2.0, 6.0)),
    ImageModel(IMG2IMG_MODEL, mode=IMG2IMG, native=None, steps=SD_STEPS, guidance=SD_GUIDANCE),
    ImageModel(INPAINT_MODEL, mode=INPAINT, native=None, steps=SD_STEPS, guidance=SD_GUIDANCE),
]}
_SIZE = re.compile(r"^(\d{1,5})x(\d{1,5})$")


def profile(model_id: str) -> ImageModel:
    # An uncatalogued @cf/ id is taken to speak the Stable Diffusion text-to-image schema.
    return PROFILES.get(model_id) or ImageModel(model_id)


def size_of(requested: Optional[str], model: ImageModel, fallback: Optional[Size] = None) -> Optional[Size]:
    """The (width, height) to ask for, or None to send none. "auto" and no size mean the model's
    native size (or `fallback`, the input image's, for image-to-image)."""
    if requested in (None, "auto"):
        if model.max_side is None or model.native:
            return None if model.max_side is None else model.native
        return fallback if fallback and _fits(fallback, model) else None
    found = _SIZE.match(requested)
    if model.max_side is None:
        native = "x".join(map(str, model.native))
        if requested == native:
            return None
        raise InvalidRequest(f"Invalid value for 'size': {model.id} only makes {native} images; ask for "
                             f"'{native}' or 'auto', or use another model for other sizes.",
                             param="size", code="invalid_value")
    if not found or not _fits((int(found[1]), int(found[2])), model):
        raise InvalidRequest(f"Invalid value for 'size': '{requested}'. Use WIDTHxHEIGHT with each side "
                             f"from {MIN_SIDE} to {model.max_side} for {model.id}, or 'auto'.",
                             param="size", code="invalid_value")
    return int(found[1]), int(found[2])


def _fits(size: Size, model: ImageModel) -> bool:
    return all(MIN_SIDE <= side <= model.max_side for side in size)


def size_label(size: Optional[Size], model: ImageModel) -> Optional[str]:
    chosen = size or (model.native if model.max_side is None else None)
    return f"{chosen[0]}x{chosen[1]}" if chosen else None


def tuning(model: ImageModel, quality: Optional[str], style: Optional[str]) -> dict:
    """quality → the model's step count, style → its guidance; refused where they mean nothing."""
    inputs = {}
    if quality in ("low", "hd", "high"):
        if model.steps is None:
            raise InvalidRequest(f"Unsupported value: 'quality' '{quality}' is not supported by {model.id}, "
                                 "which runs a fixed number of steps; use 'standard' or 'auto', or another "
                                 "model.", param="quality", code="unsupported_value")
        inputs[model.steps_field] = model.steps[0] if quality == "low" else model.steps[1]
    if style is not None:
        if model.guidance is None:
            raise InvalidRequest(f"Unsupported parameter: 'style' is not supported by {model.id}, which has "
                                 "no guidance setting.", param="style", code="unsupported_parameter")
        inputs["guidance"] = model.guidance[0] if style == "natural" else model.guidance[1]
    return inputs


def check_prompt(prompt: str, model: ImageModel) -> None:
    if model.max_prompt and len(prompt) > model.max_prompt:
        raise InvalidRequest(f"Invalid value for 'prompt': at most {model.max_prompt} characters for "
                             f"{model.id}.", param="prompt", code="invalid_value")


async def image_bytes(result, model_id: str) -> Tuple[bytes, str]:
    """(bytes, "png" | "jpeg") of a model's answer: a binary stream (SD, phoenix) or
    {image: base64} (flux, lucid-origin)."""
    if isinstance(result, dict):
        encoded = result.get("image")
        try:
            data = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else b""
        except (binascii.Error, ValueError):
            data = b""
    elif hasattr(result, "read"):
        data = await result.read()
    else:
        data = b""
    kind = png.sniff(data)
    if kind is None:
        raise UpstreamError(f"Workers AI returned no PNG or JPEG image for {model_id}.")
    return data, kind
