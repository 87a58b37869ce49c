"""The SSRF guard in the real runtime: image URLs naming a loopback listener in any spelling, or
redirecting to it, are refused (400 invalid_image_url) before any connection — the listener is
never contacted. The first hop of a redirect is the session's local web server, whose origin
the test worker allows (ALLOWED_PRIVATE_ORIGINS): offline there is no public server to start
from. Every other forbidden range is covered by tests/unit/test_ssrf.py."""
import urllib.parse

import httpx
import openai
import pytest

from integration.localweb import LocalWeb

MODEL = "gpt-4.1"  # llama-4 scout: takes image_url parts
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
PARAM = "messages[0].content[1].image_url.url"
SPELLINGS = ["127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1", "127.0.0.1.",
             "%31%32%37.0.0.1", "１２７.０.０.１", "localhost", "LOCALHOST.", "api.localhost", "0.0.0.0", "0",
             "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "cdn.example.com@127.0.0.1",
             "cdn.example.com:443@localhost"]


@pytest.fixture(scope="module")
def listener():
    """A loopback server the worker must never reach; the test itself can."""
    with LocalWeb() as web:
        web.files["/secret.png"] = ("image/png", PNG)
        assert httpx.get(web.url + "/secret.png").status_code == 200
        web.requested.clear()
        yield web


def ask(client, url: str):
    return client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is this"}, {"type": "image_url", "image_url": {"url": url}}]}])


def refused(client, url: str) -> dict:
    with pytest.raises(openai.BadRequestError) as raised:
        ask(client, url)
    assert (raised.value.body["code"], raised.value.body["param"]) == ("invalid_image_url", PARAM)
    return raised.value.body


@pytest.mark.parametrize("host", SPELLINGS)
def test_the_listener_is_never_contacted_in_any_spelling(client, listener, host):
    port = listener.server_address[1]
    refused(client, f"http://{host}:{port}/secret.png")
    assert listener.requested == []


def test_a_redirect_to_the_listener_is_refused_before_it_is_followed(client, listener, local_web):
    port = listener.server_address[1]
    for host in ("127.0.0.1", "2130706433", "[::ffff:127.0.0.1]", "localhost"):
        before = len(local_web.requested)
        hop = f"/redirect?to={urllib.parse.quote(f'http://{host}:{port}/secret.png')}"
        body = refused(client, local_web.url + hop)
        assert "Refusing to fetch" in body["message"]
        assert local_web.requested[before:] == [hop]  # the allowed first hop was requested, not the second
    assert listener.requested == []


def test_redirects_within_the_allowed_origin_are_followed(client, local_web):
    local_web.files["/real.png"] = ("image/png", PNG)
    hops = f"/redirect?to={urllib.parse.quote('/redirect?to=/real.png')}"
    reply = ask(client, local_web.url + hops)
    assert reply.choices[0].message.content == f"I see 1 image(s): image/png/{len(PNG)} bytes"


def test_more_than_three_redirects_are_refused(client, local_web):
    target = "/real.png"
    for _ in range(4):
        target = f"/redirect?to={urllib.parse.quote(target)}"
    assert "redirected more than 3 times" in refused(client, local_web.url + target)["message"]


@pytest.mark.parametrize("part", [
    {"type": "input_image", "image_url": "http://0x7f000001:{port}/secret.png"},
    {"type": "input_file", "file_url": "http://[::ffff:127.0.0.1]:{port}/secret.png", "filename": "a.txt"},
], ids=["input_image", "input_file"])
def test_responses_inputs_go_through_the_same_guard(client, listener, part):
    port = listener.server_address[1]
    part = {key: value.format(port=port) for key, value in part.items()}
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model=MODEL, input=[{"role": "user", "content": [
            {"type": "input_text", "text": "what is this"}, part]}])
    assert raised.value.body["code"] == "invalid_image_url"
    assert raised.value.body["param"].startswith("input")  # input_image: the chat part's path is not mapped back
    assert listener.requested == []
