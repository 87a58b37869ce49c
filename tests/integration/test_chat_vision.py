"""Images in chat messages, through the official SDK: data: URIs, and http(s) URLs the worker fetches
itself (Workers AI only takes data: URIs) — here from the session's local web server, whose origin
the test worker allows (ALLOWED_PRIVATE_ORIGINS); test_ssrf.py shows every other one refused.

The AI stand-in answers a message with images "I see N image(s): <mime>/<bytes> bytes, ..."."""
import base64
import struct
import zlib

import openai
import pytest

LLAMA4 = "gpt-4.1"  # llama-4 scout: image_url parts
LLAMA_VISION = "@cf/meta/llama-3.2-11b-vision-instruct"  # one image, in a top-level `image` field
GEMMA4 = "@cf/google/gemma-4-26b-a4b-it"  # OpenAI-shaped, with vision
VISION = [LLAMA4, LLAMA_VISION, GEMMA4]


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of red pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


PIXELS = png(2, 2)
DATA_URI = "data:image/png;base64," + base64.b64encode(PIXELS).decode()
SEEN = f"I see 1 image(s): image/png/{len(PIXELS)} bytes"


@pytest.fixture(scope="module")
def images(local_web):
    """The session's local web server (whose origin the worker is allowed to fetch from)."""
    local_web.files.update({"/pixels.png": ("image/png", PIXELS),
                            "/notes.txt": ("text/plain; charset=utf-8", b"not an image")})
    return local_web


def with_image(url: str, text: str = "what is this") -> list:
    return [{"role": "user", "content": [{"type": "text", "text": text},
                                         {"type": "image_url", "image_url": {"url": url}}]}]


def test_the_test_png_is_valid():
    assert PIXELS.startswith(b"\x89PNG\r\n\x1a\n")
    assert zlib.decompress(PIXELS[41:-12 - 4]) == (b"\x00" + b"\xff\x00\x00" * 2) * 2


@pytest.mark.parametrize("model", VISION)
def test_data_uri_image(client, model):
    reply = client.chat.completions.create(model=model, messages=with_image(DATA_URI))
    assert reply.choices[0].message.content == SEEN
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", VISION)
def test_http_image_url_is_fetched_by_the_worker(client, images, model):
    before = len(images.requested)
    reply = client.chat.completions.create(model=model, messages=with_image(images.url + "/pixels.png"))
    assert reply.choices[0].message.content == SEEN
    assert images.requested[before:] == ["/pixels.png"]


@pytest.mark.parametrize("model", [LLAMA4, LLAMA_VISION])
def test_streamed_reply_about_an_image(client, images, model):
    chunks = list(client.chat.completions.create(model=model, messages=with_image(images.url + "/pixels.png"),
                                                 stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == SEEN
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_several_images_in_one_message(client, images):
    gif = "data:image/gif;base64," + base64.b64encode(b"GIF89a" + b"\x00" * 10).decode()
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "compare"},
        {"type": "image_url", "image_url": {"url": DATA_URI}},
        {"type": "image_url", "image_url": {"url": images.url + "/pixels.png", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": gif}}]}]
    reply = client.chat.completions.create(model=LLAMA4, messages=messages)
    assert reply.choices[0].message.content == (
        f"I see 3 image(s): image/png/{len(PIXELS)} bytes, image/png/{len(PIXELS)} bytes, image/gif/16 bytes")


def test_a_model_with_one_image_field_refuses_two(client):
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "compare"},
        {"type": "image_url", "image_url": {"url": DATA_URI}},
        {"type": "image_url", "image_url": {"url": DATA_URI}}]}]
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=LLAMA_VISION, messages=messages)
    assert (refused.value.body["param"], refused.value.body["code"]) == ("messages", "unsupported_parameter")


@pytest.mark.parametrize("model", [LLAMA4, LLAMA_VISION])
def test_image_url_that_is_not_found_is_400(client, images, model):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=with_image(images.url + "/missing.png"))
    assert refused.value.body["param"] == "messages[0].content[1].image_url.url"
    assert refused.value.body["code"] == "invalid_image_url"
    assert "404" in refused.value.body["message"]


def test_image_url_that_serves_no_image_is_400(client, images):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=LLAMA4, messages=with_image(images.url + "/notes.txt"))
    assert refused.value.body["param"] == "messages[0].content[1].image_url.url"
    assert refused.value.body["code"] == "invalid_image"
    assert "text/plain" in refused.value.body["message"]


@pytest.mark.parametrize("url, code", [
    ("data:image/png;base64,!!not-base64!!", "invalid_image"),
    ("ftp://example.com/pixels.png", "invalid_image_url"),
    ("data:text/plain;base64,aGk=", "invalid_image_url"),
], ids=["bad-base64", "ftp", "data-not-image"])
def test_unusable_image_urls_are_400(client, url, code):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=LLAMA4, messages=with_image(url))
    assert (refused.value.body["param"], refused.value.body["code"]) == (
        "messages[0].content[1].image_url.url", code)


@pytest.mark.parametrize("model", ["gpt-4o", "@cf/zai-org/glm-4.7-flash"])
def test_non_vision_model_refuses_an_image_by_its_path(client, model):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=with_image(DATA_URI))
    assert (refused.value.body["param"], refused.value.body["code"]) == (
        "messages[0].content[1]", "unsupported_parameter")
