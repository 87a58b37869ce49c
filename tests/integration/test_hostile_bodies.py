"""Hostile bodies on every POST route never kill the isolate: each is a JSON 4xx, and a chat stream
in flight in the same isolate meanwhile completes intact. (Before the bounds, a JSON body nested
20,000 levels deep overflowed Pyodide's stack: "Network connection lost" for every request in
flight.)"""
import concurrent.futures
import re
import time

import httpx
import pytest

from api.routes import ROUTES

MULTIPART_ROUTES = {"/v1/files", "/v1/audio/transcriptions", "/v1/audio/translations",
                    "/v1/images/edits", "/v1/images/variations"}
POSTS = [re.sub(r"\{(\w+)(:path)?\}", r"\1_x", r.template) for r in ROUTES if r.method == "POST"]
DEEP = b'{"model": "gpt-4o-mini", "input": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
WIDE = b'{"model": "gpt-4o-mini", "input": [' + b"[]," * 500_000 + b"[]]}"  # 5x the value limit
DEEP_SCHEMA = b'{"model": "@cf/zai-org/glm-4.7-flash", "messages": [{"role": "user", "content": "hi"}], ' \
              b'"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": ' + \
              b'{"not": ' * 60 + b"{}" + b"}" * 60 + b"}}}"
BOUNDARY = "hostile"


def many_parts(count: int = 20_000) -> bytes:  # 200x the part limit
    part = f'--{BOUNDARY}\nContent-Disposition:form-data;name="a"\n\n\n'
    return (part * count + f"--{BOUNDARY}--").encode()


def huge_part_headers(size: int = 1_000_000) -> bytes:  # 60x the header limit
    return (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\nX-Pad: {"a" * size}'
            f"\r\n\r\nbatch\r\n--{BOUNDARY}--\r\n").encode()


def hostile_requests():
    """(path, body, content type, the error code we expect: None where the route's 404 comes first)."""
    for path in POSTS:
        if path in MULTIPART_ROUTES:
            for body in (many_parts(), huge_part_headers()):
                yield path, body, f"multipart/form-data; boundary={BOUNDARY}", "invalid_multipart"
        else:
            for body in (DEEP, WIDE):
                yield path, body, "application/json", "json_too_complex"
    yield "/v1/chat/completions", DEEP_SCHEMA, "application/json", "invalid_value"


def test_every_post_route_is_covered():
    assert len(POSTS) >= 15 and MULTIPART_ROUTES <= set(POSTS)


def test_the_isolate_survives_hostile_bodies_and_a_stream_completes(server, client):
    words = 60  # 60 events 150 ms apart: the stream outlives the hostile requests

    def stream():
        chunks = list(client.chat.completions.create(
            model="@cf/meta/llama-3.3-70b-instruct-fp8-fast", stream=True,
            messages=[{"role": "user", "content": f"[[delay:150]] [[words:{words}]]"}]))
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks[-1], time.monotonic()

    def send(request):
        path, body, content_type, _ = request
        with httpx.Client(base_url=server.url, timeout=60) as http:
            return http.post(path, content=body, headers={"authorization": "Bearer sk-local-dev",
                                                          "content-type": content_type,
                                                          "openai-beta": "assistants=v2"})

    requests = list(hostile_requests())
    for kind in ("application/json", "multipart/form-data"):  # an isolate's first requests load code
        send(next(r for r in requests if r[2].startswith(kind)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        streaming = pool.submit(stream)
        started = time.monotonic()
        answers = list(pool.map(send, requests))
        hostile_done = time.monotonic()
        text, last, stream_done = streaming.result(timeout=60)  # a killed isolate: APIConnectionError
    assert stream_done > hostile_done, f"the stream ended before the hostile requests did (in {hostile_done - started:.1f} s)"
    assert text == " ".join(f"w{i}" for i in range(1, words + 1))
    assert last.choices[0].finish_reason == "stop"
    for (path, _, _, code), answer in zip(requests, answers):
        assert answer.headers["content-type"].startswith("application/json"), (path, answer.text[:200])
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:200])
        if answer.status_code == 400:
            assert answer.json()["error"]["code"] == code, (path, answer.json())


@pytest.mark.parametrize("path, body, content_type, code", [
    ("/v1/chat/completions", DEEP, "application/json", "json_too_complex"),
    ("/v1/files", many_parts(), f"multipart/form-data; boundary={BOUNDARY}", "invalid_multipart"),
], ids=["deep-json", "many-parts"])
def test_the_refusals_say_why(http, path, body, content_type, code):
    answer = http.post(path, content=body, headers={"content-type": content_type})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == code and re.search(r"nested more than 64 levels|more than 100 parts", error["message"])
