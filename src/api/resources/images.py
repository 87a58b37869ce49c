"""POST /v1/images/generations, /edits, /variations, and GET /v1/images/content/{key}: the
signed, expiring URL of a `url` result, served without an API key."""
import asyncio
import base64
from typing import List, Optional, Tuple

from api import catalog, limits, tokens, usage
from api.media import imaging, png, signing
from api.errors import InvalidRequest, NotFound, PermissionDenied
from api.media.imaging import ImageModel
from api.ports import Deps
from api.types.images import ImageCreateVariationParams, ImageEditParams, ImageGenerateParams
from api.validate import form_fields, parse_request, parse_text
from api.web import ApiRequest, ApiResponse, ByteList

CONTENT_ROUTE = "/v1/images/content"
KEY_PREFIX = "images/"  # every stored result; an R2 lifecycle rule on it deletes leftovers
MAX_INPUT_BYTES = 4 * 1024 * 1024  # OpenAI's limit for edit and variation images
# Variations have no prompt; img2img needs one. Strength: how far from the input it may move.
VARIATION_PROMPT = "a variation of this image"
VARIATION_STRENGTH = 0.6
Image = Tuple[bytes, str]  # bytes, "png" | "jpeg"


async def create_image(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(ImageGenerateParams, req)
    model = _model(req, params.model or imaging.FLUX, imaging.GENERATE, deps)
    imaging.check_prompt(params.prompt, model)
    size = imaging.size_of(params.size, model)
    inputs = {"prompt": params.prompt, **_dimensions(size), **imaging.tuning(model, params.quality, params.style)}
    return await _generate(req, deps, model, inputs, params, size, quality=params.quality)


async def create_image_edit(req: ApiRequest, deps: Deps) -> ApiResponse:
    """OpenAI's (dall-e-2) edit: the area to repaint is where the mask, or without one the image
    itself, is fully transparent (alpha 0). The inpainting model takes it as a grayscale mask:
    white = repaint, black = keep."""
    params = parse_text(ImageEditParams, form_fields(req))
    image, dims = await _png(params.image, "image")
    model = _model(req, params.model, imaging.INPAINT, deps)
    imaging.check_prompt(params.prompt, model)
    size = imaging.size_of(params.size, model, fallback=dims)
    if params.mask is not None:
        mask, mask_dims = await _png(params.mask, "mask")
        if mask_dims != dims:
            raise InvalidRequest(f"Invalid value for 'mask': it is {_label(mask_dims)} but the image is "
                                 f"{_label(dims)}; they must have the same dimensions.",
                                 param="mask", code="invalid_value")
        transparent = _transparent(mask, "mask")
        if transparent is None:
            raise InvalidRequest("Invalid value for 'mask': it has no alpha channel; the mask's fully "
                                 "transparent pixels mark the area to edit.", param="mask",
                                 code="invalid_image")
    else:
        transparent = _transparent(image, "image")
        if transparent is None or png.TRANSPARENT not in transparent:
            raise InvalidRequest("Invalid value for 'image': the image has no transparency; send a mask "
                                 "(a PNG whose fully transparent pixels mark the area to edit), or make "
                                 "that area of the image transparent.", param="image", code="invalid_image")
    sd_mask = png.gray_png(dims[0], dims[1], transparent)
    inputs = {"prompt": params.prompt, "image_b64": _b64(image), "mask": ByteList(sd_mask), **_dimensions(size)}
    return await _generate(req, deps, model, inputs, params, size)


async def create_image_variation(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_text(ImageCreateVariationParams, form_fields(req))
    image, dims = await _png(params.image, "image")
    model = _model(req, params.model, imaging.IMG2IMG, deps)
    size = imaging.size_of(params.size, model, fallback=dims)
    inputs = {"prompt": VARIATION_PROMPT, "image_b64": _b64(image), "strength": VARIATION_STRENGTH,
              **_dimensions(size)}
    return await _generate(req, deps, model, inputs, params, size)


async def retrieve_image_content(req: ApiRequest, deps: Deps) -> ApiResponse:
    key = req.params["key"]
    secret = signing.require_secret(deps.config.url_signing_key)
    expires = req.query.get("expires", "")
    try:
        signing.check(secret, key, expires, req.query.get("sig", ""), deps.now())
    except PermissionDenied as exc:
        if exc.code == "url_expired":  # signed by us, so the object is ours to drop
            deps.defer(deps.blobs.delete(key))
        raise
    stored = await deps.blobs.get(key) if key.startswith(KEY_PREFIX) else None
    if stored is None:
        raise NotFound("This image does not exist (any more).", code="image_not_found")
    remaining = max(0, int(expires) - int(deps.now()))
    return ApiResponse(stored, 200, {"content-type": stored.content_type,
                                     "cache-control": f"private, max-age={remaining}"})


def _model(req: ApiRequest, name: Optional[str], mode: str, deps: Deps) -> ImageModel:
    """Generations run the named text-to-image model. Edits and variations have one model each
    (inpainting, img2img): OpenAI's names and no name select it; a Workers AI id must be it."""
    wanted = {imaging.IMG2IMG: imaging.IMG2IMG_MODEL, imaging.INPAINT: imaging.INPAINT_MODEL}.get(mode)
    if name is None:
        limits.check_model(req, deps, wanted, wanted)
        return imaging.profile(wanted)
    spec = limits.resolve_model(req, deps, name, catalog.IMAGES)
    if wanted and not name.startswith("@cf/"):
        limits.check_model(req, deps, wanted, name)
        return imaging.profile(wanted)
    model = imaging.profile(spec.id)
    if model.mode != mode:
        need = {imaging.GENERATE: "a text-to-image model", imaging.IMG2IMG: imaging.IMG2IMG_MODEL,
                imaging.INPAINT: imaging.INPAINT_MODEL}[mode]
        raise InvalidRequest(f"The model `{name}` cannot serve this request: it needs {need}.",
                             param="model", code="model_not_supported")
    return model


async def _png(value, param: str) -> Tuple[bytes, Tuple[int, int]]:
    """An uploaded PNG's bytes and (width, height), or a 400 naming `param`."""
    if isinstance(value, list):
        if len(value) != 1:
            raise InvalidRequest(f"Invalid value for '{param}': send one image.", param=param,
                                 code="invalid_value")
        value = value[0]
    if not hasattr(value, "read"):
        raise InvalidRequest(f"Invalid value for '{param}': it must be a file upload (a PNG image).",
                             param=param, code="invalid_value")
    if value.size > MAX_INPUT_BYTES:
        raise InvalidRequest(f"Invalid value for '{param}': the file is {value.size} bytes; the limit is "
                             f"{MAX_INPUT_BYTES} bytes (4 MB).", param=param, code="image_too_large")
    data = await value.read()
    dims = png.dimensions(data)
    if dims is None:
        raise InvalidRequest(f"Invalid value for '{param}': it must be a valid PNG image "
                             "(its bytes do not start with a PNG signature and header).",
                             param=param, code="invalid_image_format")
    return data, dims


def _transparent(data: bytes, param: str) -> Optional[bytes]:
    """png.transparent_pixels, its PngError a 400 naming `param`."""
    try:
        return png.transparent_pixels(data)
    except png.PngError as exc:
        raise InvalidRequest(f"Invalid value for '{param}': {exc}.", param=param,
                             code="invalid_image_format") from None


def _b64(image: bytes) -> str:
    """The input image as AiTextToImageInput's `image_b64`: a string crosses to the runtime as one
    copy, where a number array is serialised element by element for each of the n calls (the mask
    has no base64 form, and is small: a grayscale PNG of two shades)."""
    return base64.b64encode(image).decode()


def _dimensions(size) -> dict:
    return {"width": size[0], "height": size[1]} if size else {}


def _label(dims) -> str:
    return f"{dims[0]}x{dims[1]}"


async def _generate(req: ApiRequest, deps: Deps, model: ImageModel, inputs: dict, params,
                    size, quality: Optional[str] = None) -> ApiResponse:
    """n parallel calls (Workers AI makes one image per call), then the response in the asked format.
    Without response_format: a URL when URLs can be signed, else base64 (OpenAI's dall-e default is url)."""
    response_format = params.response_format or ("url" if deps.config.url_signing_key else "b64_json")
    secret = signing.require_secret(deps.config.url_signing_key) if response_format == "url" else ""
    results = await asyncio.gather(*(deps.ai.run(model.id, inputs) for _ in range(params.n or 1)))
    images = [await imaging.image_bytes(result, model.id) for result in results]
    used = usage.Usage(prompt_tokens=tokens.estimate(inputs["prompt"]))
    usage.record(usage.Meter.of(req), deps, model.id, used)
    if response_format == "url":
        data = await _store(req, deps, images, secret)
    else:
        data = [{"b64_json": base64.b64encode(body).decode()} for body, _ in images]
    body = {"created": int(deps.now()), "data": data, "output_format": images[0][1]}
    label = imaging.size_label(size, model)
    if label:
        body["size"] = label
    if quality:
        body["quality"] = quality
    return ApiResponse(body)


async def _store(req: ApiRequest, deps: Deps, images: List[Image], secret: str) -> List[dict]:
    expires = int(deps.now()) + deps.config.url_ttl_seconds
    keys = [f"{KEY_PREFIX}{deps.new_id('img_')}.{kind}" for _, kind in images]
    metadata = {"expires": str(expires), "owner": req.key.owner if req.key else ""}
    await asyncio.gather(*(deps.blobs.put(key, body, png.FORMATS[kind], metadata)
                           for key, (body, kind) in zip(keys, images)))
    return [{"url": signing.signed_url(req.origin, CONTENT_ROUTE, key, secret, expires)} for key in keys]
