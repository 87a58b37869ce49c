"""Chat completions with image_url parts: data: URIs passed on, http(s) images fetched (deps.web) and
sent as data: URIs, the llama-3.2 vision `image` field, and 400s for what cannot be sent."""
import base64

import pytest

from api.generation import messages
from api.web import ByteList
from unit.support import LLAMA, create_chat, drain, error, image_part, model_inputs, native, run

LLAMA4 = "@cf/meta/llama-4-scout-17b-16e-instruct"
GEMMA = "@cf/google/gemma-4-26b-a4b-it"
LLAMA_VISION = "@cf/meta/llama-3.2-11b-vision-instruct"  # one image, in a top-level `image` field
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(40))
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(200, 256))
JPEG_URI = "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()
URL = "https://example.com/cat.png"


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def asking(*images, text="What is this?"):
    return [{"role": "user", "content": [{"type": "text", "text": text}, *(image_part(i) for i in images)]}]


@pytest.mark.parametrize("model", [LLAMA4, GEMMA])
def test_data_uris_pass_through_to_vision_models(deps, model):
    response = create_chat(deps, model=model, messages=asking(PNG_URI, JPEG_URI))
    assert response.status == 200
    assert model_inputs(deps)["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": PNG_URI}}, {"type": "image_url", "image_url": {"url": JPEG_URI}}]}]


def test_detail_is_dropped_and_the_type_lowercased(deps):
    part = {"type": "image_url", "image_url": {"url": PNG_URI.replace("image/png", "IMAGE/PNG"), "detail": "high"}}
    create_chat(deps, model=LLAMA4, messages=[{"role": "user", "content": [part]}])
    assert model_inputs(deps)["messages"][0]["content"] == [{"type": "image_url", "image_url": {"url": PNG_URI}}]


@pytest.mark.parametrize("content_type", ["image/png", "image/png; charset=binary", "IMAGE/PNG"])
def test_https_images_are_fetched_and_sent_as_data_uris(deps, content_type):
    deps.web.pages[URL] = (PNG, content_type)
    create_chat(deps, model=LLAMA4, messages=asking(URL))
    assert model_inputs(deps)["messages"][0]["content"][1] == {"type": "image_url", "image_url": {"url": PNG_URI}}


def test_the_fetch_is_capped_at_the_image_limit(deps):
    seen = []

    async def fetch_bytes(url, max_bytes):
        seen.append((url, max_bytes))
        return PNG, "image/png"
    deps.web.fetch_bytes = fetch_bytes
    create_chat(deps, model=LLAMA4, messages=asking(URL))
    assert seen == [(URL, messages.MAX_IMAGE_BYTES)]


def test_a_fetched_page_that_is_not_an_image(deps):
    deps.web.pages[URL] = (b"<html></html>", "text/html; charset=utf-8")
    response = create_chat(deps, model=LLAMA4, messages=asking(URL))
    assert (response.status, response.body) == (400, error(
        "'messages[0].content[1].image_url.url' is not an image (text/html).", "messages[0].content[1].image_url.url",
        "invalid_image"))
    assert deps.ai.calls == []


def test_a_failed_fetch_is_a_400(deps):
    response = create_chat(deps, model=LLAMA4, messages=asking("https://example.com/missing.png"))
    assert (response.status, response.body["error"]["code"]) == (400, "invalid_image_url")
    assert deps.ai.calls == []


def test_a_fetched_image_over_the_limit_is_a_400(deps, monkeypatch):
    monkeypatch.setattr(messages, "MAX_IMAGE_BYTES", 16)
    deps.web.pages[URL] = (PNG, "image/png")
    response = create_chat(deps, model=LLAMA4, messages=asking(URL))
    assert (response.status, response.body["error"]["code"]) == (400, "image_too_large")


def test_a_data_uri_over_the_limit_is_a_400(deps, monkeypatch):
    monkeypatch.setattr(messages, "MAX_IMAGE_BYTES", 16)
    response = create_chat(deps, model=LLAMA4, messages=asking(PNG_URI))
    assert (response.status, response.body) == (400, error(
        "The image in 'messages[0].content[1].image_url.url' is over 16 bytes.",
        "messages[0].content[1].image_url.url", "image_too_large"))


@pytest.mark.parametrize("url,code", [
    ("data:image/png;base64,not base64!", "invalid_image"),
    ("data:text/plain;base64,aGVsbG8=", "invalid_image_url"),
    ("ftp://example.com/cat.png", "invalid_image_url"),
    ("cat.png", "invalid_image_url"),
    ("", "invalid_image_url"),
])
def test_unusable_image_urls(deps, url, code):
    response = create_chat(deps, model=LLAMA4, messages=asking(url))
    assert (response.status, response.body["error"]["param"], response.body["error"]["code"]) == (
        400, "messages[0].content[1].image_url.url", code)


@pytest.mark.parametrize("model", [LLAMA, "@cf/zai-org/glm-4.7-flash", "@cf/qwen/qwq-32b"])
def test_an_image_for_a_model_without_vision(deps, model):
    history = [{"role": "user", "content": "Hi"}, *asking(PNG_URI)]
    response = create_chat(deps, model=model, messages=history)
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: 'messages[1].content[1]' is an image, and {model} does not take images; "
        "use a vision model.", "messages[1].content[1]", "unsupported_parameter"))
    assert deps.ai.calls == []


def test_text_parts_alone_stay_a_string_on_vision_models(deps):
    create_chat(deps, model=LLAMA4, messages=[{"role": "user", "content": [{"type": "text", "text": "a"},
                                                                           {"type": "text", "text": "b"}]}])
    assert model_inputs(deps)["messages"][0]["content"] == "a\nb"


# --- llama-3.2 vision: one image as bytes in `image` ---------------------------------------------

@pytest.mark.parametrize("url", [PNG_URI, URL])
def test_image_field_model_gets_bytes_and_text(deps, url):
    deps.web.pages[URL] = (PNG, "image/png")
    create_chat(deps, native("A cat."), model=LLAMA_VISION, messages=asking(url, text="Describe it."))
    inputs = model_inputs(deps)
    assert inputs["messages"] == [{"role": "user", "content": "Describe it."}]
    assert inputs["image"] == ByteList(PNG)  # listed by the edge, in the runtime


def test_image_field_model_takes_one_image(deps):
    response = create_chat(deps, model=LLAMA_VISION, messages=asking(PNG_URI, JPEG_URI))
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: 'messages' holds 2 images; {LLAMA_VISION} takes one.", "messages",
        "unsupported_parameter"))


def test_image_field_model_without_an_image(deps):
    create_chat(deps, native("Hi."), model=LLAMA_VISION)
    assert "image" not in model_inputs(deps)


def test_a_large_image_is_not_counted_as_prompt_text(deps):
    photo = bytes((i * 7919) % 251 for i in range(3 * 1024 * 1024))  # 3 MB: well under OpenAI's 20 MB
    uri = "data:image/jpeg;base64," + base64.b64encode(photo).decode()
    response = create_chat(deps, native("A photo."), model=LLAMA4, messages=asking(uri))
    assert response.status == 200, response.body


@pytest.mark.parametrize("url", ["http://127.0.0.1:8787/v1/models", "http://0x7f000001/", "http://[::1]/x.png",
                                 "http://cdn.example.com@127.0.0.1/cat.png", "http://169.254.169.254/latest/meta-data/"])
def test_an_image_url_to_a_private_address_is_refused_before_any_request(deps, url):
    response = create_chat(deps, model=LLAMA4, messages=asking(PNG_URI, url))
    assert (response.status, response.body["error"]["code"], response.body["error"]["param"]) == (
        400, "invalid_image_url", "messages[0].content[2].image_url.url")
    assert (deps.web.contacted, deps.ai.calls) == ([], [])


def test_a_redirect_to_a_private_address_is_refused_before_it_is_followed(deps):
    deps.web.pages[URL] = (302, "http://localhost:8787/secret.png")
    response = create_chat(deps, model=LLAMA4, messages=asking(URL))
    assert (response.status, response.body["error"]["param"]) == (400, "messages[0].content[1].image_url.url")
    assert "localhost is a local name" in response.body["error"]["message"]
    assert deps.web.contacted == [URL]
