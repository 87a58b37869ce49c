"""Images through the official SDK: generations (base64 and signed URLs fetched without a key),
edits and variations from real PNG uploads.

The AI stand-in answers flux-1-schnell and lucid-origin with {image: <base64 JPEG>}, phoenix with a
JPEG stream, and the Stable Diffusion family with a PNG stream: a picture of the requested size
(a gradient under a checkerboard, ai-standin/pictures.js) that depends on the prompt."""
import base64
import io

import httpx
import openai
import pytest
from PIL import Image

from api.media import signing
from pngs import dimensions, encode, png, rgba_with_hole

LOCAL_SIGNING_KEY = "local-development-only-signing-key"  # wrangler.toml [env.local.vars]
PNG_SIGNATURE, JPEG_SIGNATURE = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"


def upload(data: bytes, name: str = "image.png"):
    return (name, io.BytesIO(data), "image/png")


@pytest.mark.parametrize("model, signature", [
    (None, JPEG_SIGNATURE),  # flux-1-schnell: {image: base64 JPEG}
    ("dall-e-2", PNG_SIGNATURE),  # sdxl-lightning: PNG stream
    ("@cf/leonardo/phoenix-1.0", JPEG_SIGNATURE),  # JPEG stream
    ("gpt-image-1", JPEG_SIGNATURE),  # lucid-origin: {image: base64 JPEG}
])
def test_generate_b64_json(client, model, signature):
    extra = {"model": model} if model else {}
    reply = client.images.generate(prompt="a lighthouse at dusk", response_format="b64_json", **extra)
    [image] = reply.data
    assert base64.b64decode(image.b64_json).startswith(signature)
    assert image.url is None and reply.created > 0


def picture(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()  # decodes every byte: a broken file fails here
    return image.convert("RGB")


@pytest.mark.parametrize("model,size,expected,kind", [
    (None, None, (1024, 1024), "JPEG"),  # flux-1-schnell: its only size
    ("gpt-image-1", "1536x1024", (1536, 1024), "JPEG"),  # lucid-origin
    ("@cf/leonardo/phoenix-1.0", "1024x1536", (1024, 1536), "JPEG"),
    ("dall-e-2", "512x512", (512, 512), "PNG"),  # sdxl-lightning
])
def test_every_model_draws_a_real_picture_of_the_size_asked(client, model, size, expected, kind):
    extra = {k: v for k, v in {"model": model, "size": size}.items() if v}
    b64 = client.images.generate(prompt="a lighthouse at dusk", response_format="b64_json", **extra).data[0].b64_json
    assert Image.open(io.BytesIO(base64.b64decode(b64))).format == kind
    image = picture(b64)
    assert image.size == expected
    width, height = expected
    (r0, g0, _), (r1, g1, _) = image.getpixel((2, 2)), image.getpixel((width - 3, height - 3))
    assert r0 < 40 < 215 < r1 and g0 < 40 < 215 < g1  # red across, green down: a picture, not a fill


def test_the_picture_follows_the_prompt(client):
    def draw(prompt):
        return client.images.generate(prompt=prompt, model="dall-e-2", size="256x256",
                                      response_format="b64_json").data[0].b64_json
    first = draw("a red kite")
    assert draw("a red kite") == first
    assert picture(draw("a blue kite")).getpixel((100, 100)) != picture(first).getpixel((100, 100))


def test_size_reaches_the_model(client):
    reply = client.images.generate(prompt="a wide valley", model="dall-e-3", size="1792x1024",
                                   quality="hd", style="natural", response_format="b64_json")
    assert dimensions(base64.b64decode(reply.data[0].b64_json)) == (1792, 1024)
    assert (reply.size, reply.output_format) == ("1792x1024", "png")


def test_n_makes_that_many_images(client):
    reply = client.images.generate(prompt="two cats", model="dall-e-2", size="256x256", n=2,
                                   response_format="b64_json")
    assert len(reply.data) == 2


def test_url_works_without_an_api_key(client, server):
    reply = client.images.generate(prompt="a red kite", model="dall-e-2", size="512x512", response_format="url")
    url = reply.data[0].url
    assert url.startswith(server.url + "/v1/images/content/images/")
    got = httpx.get(url)  # no authorization header
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "image/png"
    assert got.headers["cache-control"].startswith("private, max-age=")
    assert 3500 < int(got.headers["cache-control"].split("=")[1]) <= 3600
    assert dimensions(got.content) == (512, 512)


def test_a_tampered_url_is_403(client):
    url = client.images.generate(prompt="a kite", response_format="url").data[0].url
    got = httpx.get(url[:-2] + ("AA" if not url.endswith("AA") else "BB"))
    assert got.status_code == 403 and got.json()["error"]["code"] == "invalid_signature"
    assert httpx.get(url).status_code == 200


def test_an_expired_url_is_403_and_the_object_is_deleted(client, server):
    url = client.images.generate(prompt="a kite", response_format="url").data[0].url
    key = url.split("/v1/images/content/")[1].split("?")[0]
    expired = signing.signed_url(server.url, "/v1/images/content", key, LOCAL_SIGNING_KEY, 1_000_000)
    got = httpx.get(expired)
    assert got.status_code == 403 and got.json()["error"]["code"] == "url_expired"
    # The object went with the expired URL: the still-valid URL finds nothing now.
    for _ in range(20):
        if httpx.get(url).status_code == 404:
            break
    assert httpx.get(url).status_code == 404


def test_invalid_size_is_400(client):
    with pytest.raises(openai.BadRequestError) as raised:
        client.images.generate(prompt="x", size="512x512")  # flux-1-schnell makes 1024x1024 only
    assert raised.value.body["param"] == "size"
    with pytest.raises(openai.BadRequestError):
        client.images.generate(prompt="x", model="dall-e-3", size="99999x1")


def test_edit_with_a_mask_having_a_transparent_square(client):
    mask = rgba_with_hole(320, 256, (100, 64, 200, 164), filters=(0, 1, 2, 3, 4))
    reply = client.images.edit(image=upload(png(320, 256)), mask=upload(mask), prompt="add a moon",
                               response_format="b64_json")
    assert dimensions(base64.b64decode(reply.data[0].b64_json)) == (320, 256)


def test_edit_without_a_mask_uses_the_images_transparency(client):
    image = rgba_with_hole(256, 256, (0, 0, 128, 128), filters=(4,))
    reply = client.images.edit(image=upload(image), prompt="make it snow", n=2, size="512x512",
                               response_format="b64_json")
    assert [dimensions(base64.b64decode(d.b64_json)) for d in reply.data] == [(512, 512)] * 2


def test_an_opaque_image_without_a_mask_is_400(client):
    opaque_rgb = encode(256, 256, 2, [bytes(range(256)) * 3] * 256, filters=(1,))
    with pytest.raises(openai.BadRequestError) as raised:
        client.images.edit(image=upload(opaque_rgb), prompt="make it snow")
    assert (raised.value.body["param"], raised.value.body["code"]) == ("image", "invalid_image")
    assert "the image has no transparency; send a mask" in raised.value.body["message"]


def test_variation(client):
    reply = client.images.create_variation(image=upload(png(384, 384)), response_format="b64_json")
    assert dimensions(base64.b64decode(reply.data[0].b64_json)) == (384, 384)


def test_variation_as_url(client):
    url = client.images.create_variation(image=upload(png(256, 256)), response_format="url").data[0].url
    assert httpx.get(url).headers["content-type"] == "image/png"


@pytest.mark.parametrize("image, mask, param", [
    (b"GIF89a" + b"\x00" * 64, None, "image"),
    (png(64, 64), png(64, 32), "mask"),
])
def test_bad_uploads_are_400(client, image, mask, param):
    extra = {"mask": upload(mask)} if mask else {}
    with pytest.raises(openai.BadRequestError) as raised:
        client.images.edit(image=upload(image), prompt="x", **extra)
    assert raised.value.body["param"] == param


def test_an_upload_over_4_mb_is_400(client):
    big = png(64, 64) + bytes(4 * 1024 * 1024)
    with pytest.raises(openai.BadRequestError) as raised:
        client.images.create_variation(image=upload(big))
    assert (raised.value.body["param"], raised.value.body["code"]) == ("image", "image_too_large")


def test_model_failure_is_mapped(client):
    with pytest.raises(openai.RateLimitError):
        client.images.generate(prompt="[[fail:3040]] a kite", response_format="b64_json")


def test_image_models_are_listed(client):
    ids = {m.id for m in client.models.list()}
    assert {"dall-e-2", "dall-e-3", "gpt-image-1", "@cf/black-forest-labs/flux-1-schnell"} <= ids
