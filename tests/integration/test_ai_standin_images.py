"""The AI stand-in alone, over its `POST /run` handler: Stable Diffusion img2img and inpainting take
the input image as `image` (byte values) or `image_b64` (base64), as AiTextToImageInput does, and
refuse what Workers AI refuses."""
import base64

import httpx
import pytest

from integration.devserver import StandinServer
from pngs import dimensions, encode, png

IMG2IMG = "@cf/runwayml/stable-diffusion-v1-5-img2img"
INPAINT = "@cf/runwayml/stable-diffusion-v1-5-inpainting"


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    state, logs = tmp_path_factory.mktemp("ai-standin-state"), tmp_path_factory.mktemp("ai-standin-logs")
    with StandinServer("ai-standin/wrangler.toml", state, logs / "wrangler-dev.log") as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            yield client


def run(client: httpx.Client, model: str, **inputs) -> httpx.Response:
    return client.post("/run", json={"model": model, "inputs": {"prompt": "a hat", **inputs}})


def gray_mask(width: int, height: int) -> list:
    return list(encode(width, height, 0, [bytes(width)] * height))


@pytest.mark.parametrize("field, value", [
    ("image", list(png(320, 256))),
    ("image_b64", base64.b64encode(png(320, 256)).decode()),
])
def test_img2img_takes_either_form_of_the_image(standin, field, value):
    reply = run(standin, IMG2IMG, **{field: value})
    assert reply.status_code == 200, reply.text
    assert dimensions(reply.content) == (320, 256)  # the size of the image it decoded


def test_inpainting_checks_the_mask_against_the_decoded_image_b64(standin):
    image = base64.b64encode(png(320, 256)).decode()
    assert dimensions(run(standin, INPAINT, image_b64=image, mask=gray_mask(320, 256)).content) == (320, 256)
    refused = run(standin, INPAINT, image_b64=image, mask=gray_mask(256, 256))
    assert refused.status_code == 400 and "they must be the same size" in refused.text


@pytest.mark.parametrize("inputs, says", [
    ({"image_b64": "not base64!"}, "'image_b64' is not valid base64"),
    ({"image_b64": ""}, "'image_b64' must be a non-empty base64 string"),
    ({"image_b64": [1, 2, 3]}, "'image_b64' must be a non-empty base64 string"),
    ({"image": list(png(64, 64)), "image_b64": base64.b64encode(png(64, 64)).decode()}, "not both"),
    ({}, "'image' must be an array of byte values"),
])
def test_bad_image_inputs_are_8001(standin, inputs, says):
    reply = run(standin, IMG2IMG, **inputs)
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == 8001 and says in reply.json()["errors"][0]["message"]
