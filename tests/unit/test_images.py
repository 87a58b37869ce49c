"""api.resources.images through api.app: generations (both output kinds of Workers AI), sizes,
quality/style, url results served at signed expiring URLs, edits and variations from PNG uploads."""
import base64
import dataclasses
from urllib.parse import parse_qsl, urlsplit

import pytest

from api.media import signing
from api.resources import images
from fakes import MemoryBinary
from pngs import decode_gray, encode, expected_mask, png, rgba_with_hole
from unit.support import NOW, call, drain, error, post, run

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x00" * 40  # the signature is what counts here
PNG = png(8, 8)
FLUX = "@cf/black-forest-labs/flux-1-schnell"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"
SECRET = "unit-signing-key"
ORIGIN = "https://worker.example"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def flux_answer(data=JPEG) -> dict:
    return {"image": b64(data)}


def generate(deps, *answers, **body):
    for answer in answers:
        deps.ai.answer(answer)
    response = post(deps, "/v1/images/generations", {"prompt": "a red fox", **body}, origin=ORIGIN)
    run(drain(deps))  # the usage event
    return response


def signed(deps):
    deps.config = dataclasses.replace(deps.config, url_signing_key=SECRET, url_ttl_seconds=600)
    return deps


def inputs_of(deps) -> list:
    return [inputs for _, inputs, _ in deps.ai.calls]


# --- generations -----------------------------------------------------------------------------------

def test_default_model_is_flux_and_answers_base64(deps):
    response = generate(deps, flux_answer(), response_format="b64_json")
    assert (response.status, response.body) == (200, {
        "created": NOW, "data": [{"b64_json": base64.b64encode(JPEG).decode()}],
        "output_format": "jpeg", "size": "1024x1024"})
    assert deps.ai.calls == [(FLUX, {"prompt": "a red fox"}, None)]


def test_without_a_signing_key_the_default_format_is_base64(deps):
    response = generate(deps, flux_answer())
    assert list(response.body["data"][0]) == ["b64_json"]


def test_binary_png_results_and_openai_names(deps):
    response = generate(deps, MemoryBinary(PNG), model="dall-e-3", size="1792x1024", quality="hd",
                        style="vivid", response_format="b64_json")
    assert response.status == 200, response.body
    assert base64.b64decode(response.body["data"][0]["b64_json"]) == PNG
    assert (response.body["output_format"], response.body["size"], response.body["quality"]) == (
        "png", "1792x1024", "hd")
    assert deps.ai.calls == [(SDXL, {"prompt": "a red fox", "width": 1792, "height": 1024,
                                     "num_steps": 20, "guidance": 10.0}, None)]


@pytest.mark.parametrize("quality, style, sent", [
    ("low", "natural", {"num_steps": 10, "guidance": 5.0}),
    ("standard", None, {}), ("medium", None, {}), ("auto", None, {}),
])
def test_quality_and_style_map_to_steps_and_guidance(deps, quality, style, sent):
    response = generate(deps, MemoryBinary(PNG), model=SDXL, quality=quality, style=style,
                        response_format="b64_json")
    assert response.status == 200, response.body
    assert inputs_of(deps) == [{"prompt": "a red fox", "width": 1024, "height": 1024, **sent}]


def test_flux_quality_maps_to_steps(deps):
    assert generate(deps, flux_answer(), quality="high").status == 200
    assert inputs_of(deps) == [{"prompt": "a red fox", "steps": 8}]


def test_n_runs_parallel_calls(deps):
    response = generate(deps, MemoryBinary(PNG), MemoryBinary(PNG), model="dall-e-2", n=2,
                        response_format="b64_json")
    assert len(response.body["data"]) == 2 and len(deps.ai.calls) == 2


@pytest.mark.parametrize("body, param, code", [
    ({"size": "512x512"}, "size", "invalid_value"),  # flux makes only 1024x1024
    ({"model": SDXL, "size": "big"}, "size", "invalid_value"),
    ({"model": SDXL, "size": "4096x1024"}, "size", "invalid_value"),
    ({"model": SDXL, "size": "128x128"}, "size", "invalid_value"),
    ({"model": "dall-e-2", "quality": "hd"}, "quality", "unsupported_value"),
    ({"style": "vivid"}, "style", "unsupported_parameter"),
    ({"n": 5}, "n", "invalid_value"),
    ({"prompt": "x" * 2049}, "prompt", "invalid_value"),
    ({"prompt": ""}, "prompt", "invalid_value"),
    ({"response_format": "png"}, "response_format", "invalid_value"),
    ({"model": "gpt-4o"}, "model", "model_not_supported"),
    ({"model": "@cf/runwayml/stable-diffusion-v1-5-inpainting"}, "model", "model_not_supported"),
])
def test_bad_parameters_are_400_before_any_model_call(deps, body, param, code):
    response = generate(deps, **body)
    assert response.status == 400, response.body
    assert (response.body["error"]["param"], response.body["error"]["code"]) == (param, code)
    assert deps.ai.calls == []


def test_flux_accepts_its_native_size_without_sending_it(deps):
    assert generate(deps, flux_answer(), size="1024x1024").status == 200
    assert inputs_of(deps) == [{"prompt": "a red fox"}]


def test_unusable_model_output_is_502(deps):
    response = generate(deps, {"image": "not base64!"})
    assert response.status == 502 and response.body["error"]["code"] == "upstream_error"


# --- url results and their signed URLs ----------------------------------------------------------

def fetch(deps, url: str):
    parts = urlsplit(url)
    return call(deps, "GET", parts.path, headers={"authorization": ""}, query=dict(parse_qsl(parts.query)))


def test_url_results_are_stored_and_served_without_a_key(deps):
    signed(deps)
    response = generate(deps, MemoryBinary(PNG), model=SDXL, response_format="url")
    assert response.status == 200, response.body
    [item] = response.body["data"]
    key = "images/img_0002.png"
    assert item == {"url": signing.signed_url(ORIGIN, "/v1/images/content", key, SECRET, NOW + 600)}
    stored = deps.blobs.objects[key]
    assert (stored.data, stored.content_type, stored.metadata) == (
        PNG, "image/png", {"expires": str(NOW + 600), "owner": "local-dev"})
    deps.now.now += 100
    got = fetch(deps, item["url"])
    assert (got.status, got.body.data) == (200, PNG)
    assert got.headers["content-type"] == "image/png"
    assert got.headers["cache-control"] == "private, max-age=500"


def test_url_is_the_default_with_a_signing_key(deps):
    signed(deps)
    assert list(generate(deps, flux_answer()).body["data"][0]) == ["url"]


def test_a_tampered_signature_is_403(deps):
    signed(deps)
    url = generate(deps, flux_answer()).body["data"][0]["url"]
    got = fetch(deps, url.replace("sig=", "sig=x"))
    assert (got.status, got.body) == (403, error("The URL's signature is not valid.", code="invalid_signature"))
    assert fetch(deps, url.replace("img_", "img_1")).status == 403  # another key, same signature


def test_an_expired_url_is_403_and_its_object_deleted(deps):
    signed(deps)
    url = generate(deps, flux_answer()).body["data"][0]["url"]
    deps.now.now += 601
    got = fetch(deps, url)
    assert (got.status, got.body) == (403, error("The URL has expired.", code="url_expired"))
    run(drain(deps))
    assert deps.blobs.objects == {}


def test_a_deleted_object_is_404(deps):
    signed(deps)
    url = generate(deps, flux_answer()).body["data"][0]["url"]
    deps.blobs.objects.clear()
    assert fetch(deps, url).status == 404


def test_only_image_keys_are_served(deps):
    signed(deps)
    deps.blobs.objects["files/file-1"] = MemoryBinary(b"secret")
    url = signing.signed_url(ORIGIN, "/v1/images/content", "files/file-1", SECRET, NOW + 60)
    assert fetch(deps, url).status == 404


def test_url_results_need_the_signing_key(deps):
    response = generate(deps, flux_answer(), response_format="url")
    assert (response.status, response.body["error"]["code"]) == (500, "url_signing_key_missing")
    assert deps.ai.calls == []


# --- edits and variations ---------------------------------------------------------------------------

def upload(data: bytes, name="image.png") -> MemoryBinary:
    return MemoryBinary(data, "image/png", filename=name)


def multipart(deps, path, answers=1, **fields):
    for _ in range(answers):
        deps.ai.answer(MemoryBinary(png(8, 8)))
    form = {name: [value] for name, value in fields.items()}
    response = call(deps, "POST", path, headers={"content-type": "multipart/form-data; boundary=x"}, form=form)
    run(drain(deps))
    return response


INPAINT = "@cf/runwayml/stable-diffusion-v1-5-inpainting"


def test_edit_with_a_mask_sends_its_transparent_area_as_a_white_on_black_mask(deps):
    image, mask = png(300, 400), rgba_with_hole(300, 400, (10, 20, 110, 70), filters=(4, 1, 2, 3, 0))
    response = multipart(deps, "/v1/images/edits", image=upload(image), mask=upload(mask), prompt="add a hat",
                         response_format="b64_json")
    assert response.status == 200, response.body
    [(model, inputs, _)] = deps.ai.calls
    sent = bytes(inputs.pop("mask"))
    assert (model, inputs) == (INPAINT, {"prompt": "add a hat", "image_b64": b64(image), "width": 300, "height": 400})
    assert decode_gray(sent) == (300, 400, expected_mask(300, 400, (10, 20, 110, 70)))
    assert response.body["size"] == "300x400"


def test_edit_without_a_mask_uses_the_images_own_transparency(deps):
    image = rgba_with_hole(256, 256, (0, 0, 64, 32))
    response = multipart(deps, "/v1/images/edits", answers=2, image=upload(image), prompt="winter", n="2",
                         size="512x512", model="dall-e-2", response_format="b64_json")
    assert response.status == 200, response.body
    assert len(response.body["data"]) == 2
    inputs = inputs_of(deps)[0]
    assert decode_gray(bytes(inputs.pop("mask"))) == (256, 256, expected_mask(256, 256, (0, 0, 64, 32)))
    assert inputs == {"prompt": "winter", "image_b64": b64(image), "width": 512, "height": 512}
    assert {model for model, _, _ in deps.ai.calls} == {INPAINT}


def test_an_opaque_mask_keeps_everything(deps):
    # OpenAI semantics: only alpha-0 pixels are edited; an opaque mask marks none (all black).
    response = multipart(deps, "/v1/images/edits", image=upload(png(256, 256)),
                         mask=upload(png(256, 256, (255, 255, 255, 255))), prompt="x", response_format="b64_json")
    assert response.status == 200, response.body
    assert decode_gray(bytes(inputs_of(deps)[0]["mask"])) == (256, 256, bytes(256 * 256))


@pytest.mark.parametrize("image", [
    png(64, 64),  # RGBA, every pixel opaque
    encode(64, 64, 2, [bytes(3 * 64)] * 64),  # RGB: no alpha at all
    rgba_with_hole(64, 64, (0, 0, 0, 0)),  # alphas 1-255: translucent but nothing fully transparent
])
def test_an_edit_without_a_mask_needs_a_transparent_image(deps, image):
    response = multipart(deps, "/v1/images/edits", image=upload(image), prompt="x")
    assert response.status == 400, response.body
    assert (response.body["error"]["param"], response.body["error"]["code"]) == ("image", "invalid_image")
    assert "the image has no transparency; send a mask" in response.body["error"]["message"]
    assert deps.ai.calls == []


def test_variation_runs_img2img_with_a_neutral_prompt(deps):
    image = png(256, 256)
    response = multipart(deps, "/v1/images/variations", image=upload(image), response_format="b64_json")
    assert response.status == 200, response.body
    assert deps.ai.calls == [("@cf/runwayml/stable-diffusion-v1-5-img2img", {
        "prompt": images.VARIATION_PROMPT, "image_b64": b64(image), "strength": images.VARIATION_STRENGTH,
        "width": 256, "height": 256}, None)]


def test_input_images_outside_the_model_limits_leave_the_size_to_the_model(deps):
    multipart(deps, "/v1/images/variations", image=upload(png(100, 100)), response_format="b64_json")
    assert "width" not in inputs_of(deps)[0]


@pytest.mark.parametrize("fields, param, code", [
    ({"image": upload(JPEG)}, "image", "invalid_image_format"),
    ({"image": upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)}, "image", "invalid_image_format"),
    ({"image": upload(PNG + b"\x00" * (4 * 1024 * 1024))}, "image", "image_too_large"),
    ({"image": "not a file"}, "image", "invalid_value"),
    ({"image": upload(png(64, 64)), "mask": upload(png(64, 32))}, "mask", "invalid_value"),
    ({"image": upload(png(64, 64)), "mask": upload(JPEG)}, "mask", "invalid_image_format"),
    ({"image": upload(png(64, 64)), "mask": upload(encode(64, 64, 2, [bytes(192)] * 64))}, "mask",
     "invalid_image"),  # a mask without an alpha channel marks nothing
    ({"image": upload(encode(64, 64, 6, [bytes(256)] * 64, interlace=1))}, "image", "invalid_image_format"),
    ({"image": upload(png(64, 64)), "mask": upload(encode(64, 64, 6, [bytes(256)] * 64, depth=4))}, "mask",
     "invalid_image_format"),
    ({"image": upload(png(64, 64)), "size": "1x1"}, "size", "invalid_value"),
    ({"image": upload(png(64, 64)), "n": "9"}, "n", "invalid_value"),
    ({"image": upload(png(64, 64)), "model": FLUX}, "model", "model_not_supported"),
    ({"prompt": "x"}, "image", "missing_required_parameter"),
])
def test_bad_edits_are_400(deps, fields, param, code):
    response = multipart(deps, "/v1/images/edits", **{"prompt": "a hat", **fields})
    assert response.status == 400, response.body
    assert (response.body["error"]["param"], response.body["error"]["code"]) == (param, code)
    assert deps.ai.calls == []


def test_edits_need_multipart(deps):
    response = post(deps, "/v1/images/edits", {"prompt": "x"})
    assert (response.status, response.body["error"]["code"]) == (400, "invalid_content_type")


def test_generations_need_an_api_key(deps):
    response = call(deps, "POST", "/v1/images/generations", {"prompt": "x"}, headers={"authorization": ""})
    assert response.status == 401
