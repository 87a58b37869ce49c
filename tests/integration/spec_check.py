"""One hook for the whole suite: every JSON body and every SSE event a worker under test sends,
to whichever client asked (the `http` fixture, the SDK clients of fixtures, ad-hoc httpx calls),
is validated against its operation's schema in OpenAI's OpenAPI document (tests/openai_spec.py),
and errors against ErrorResponse. It wraps httpx's and httpx2's (the SDK's) transports, so no test
can make a request that escapes it. DEVIATIONS lists our deliberate differences (README)."""
import json
import os
import re

import httpx
import httpx2

import openai_spec

WORKERS = set()  # scheme://host:port of the workers under test; DevServer adds its own

# Where our answers differ from the document on purpose, or where the document does not describe
# what OpenAI's API answers: (answer, JSON path, violation) regexes → why. Nothing else is let through.
DEVIATIONS = {
    (r"GET \S+ → 200", r"first_id|last_id", r"None is not of type 'string'"):
        "an empty page has no first or last id: null, as the live API answers",
    (r"POST /embeddings → 200", r"data/\d+/embedding", r"'[A-Za-z0-9+/]*=*' is not of type 'array'"):
        "encoding_format base64 answers base64 strings, which the document does not describe",
    (r"POST /images/\w+ → 200", r"size|quality", r"'[^']+' is not one of .*"):
        "our extension: the size and quality the images were made at; the document lists gpt-image-1's only",
    (r"POST /completions → 200 \(event\)", r"choices/\d+/finish_reason", r"None is not (of type 'string'|one of .*)"):
        "a streamed choice's finish_reason is null until its last chunk, as the live API streams it",
    (r"DELETE /responses/\{response_id\} → 200", r"\(root\)", r"the document has no application/json schema .*"):
        "the document gives this answer no body; we answer a deletion object, as for every other delete",
    (r"POST /completions → 200 \(event\)", r"usage", r"None is not of type 'object'"):
        "with stream_options.include_usage, usage is null on every chunk but the last, as the live API streams it",
    (r"GET /chat/completions/\{completion_id\}/messages → 200", r"data/\d+/role",
     r"'(developer|system|user|tool)' is not one of \['assistant'\]"):
        "a stored completion's messages keep their own roles, as OpenAI's example answers; the document's "
        "message list types every message as the assistant's",
}
UNCHECKED = {  # operations whose body is not an OpenAI object
    ("get", "/files/{file_id}/content"): "the file's own bytes, with its own content type",
}
STREAMED = {  # operations the document gives no text/event-stream schema, and what their events are
    ("post", "/completions"): "CreateCompletionResponse",
    ("get", "/responses/{response_id}"): "ResponseStreamEvent",  # ?stream=true: a background response's events
    ("post", "/threads/runs"): "AssistantStreamEvent",
    ("post", "/threads/{thread_id}/runs"): "AssistantStreamEvent",
    ("post", "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"): "AssistantStreamEvent",
}
NAMED_EVENTS = {"AssistantStreamEvent"}  # schemas of {event, data}: the `event:` line's name and the data


def install() -> None:
    openai_spec.validator("ErrorResponse")  # load the document now (seconds), not inside a timed test
    for module in (httpx, httpx2):
        transport = module.HTTPTransport
        if getattr(transport.handle_request, "spec_checked", False):
            continue
        send = transport.handle_request

        def handle_request(self, request, _send=send):
            response = _send(self, request)
            check(request, response)
            return response
        handle_request.spec_checked = True
        transport.handle_request = handle_request


def check(request, response) -> None:
    url = request.url
    if f"{url.scheme}://{url.host}:{url.port}" not in WORKERS:
        return
    found = openai_spec.operation(request.method, url.raw_path.decode().split("?")[0])
    if found is None:
        return  # our own routes (signed image URLs): not in the document
    template, _ = found
    if (request.method.lower(), template) in UNCHECKED:
        return
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    where = f"{request.method} {template} → {response.status_code}"
    streamed = STREAMED.get((request.method.lower(), template)) if content_type == "text/event-stream" else None
    if response.status_code >= 400:
        validator = openai_spec.validator("ErrorResponse")
    elif streamed:
        validator = openai_spec.validator(streamed)
    else:
        validator = openai_spec.response_validator(request.method, template, response.status_code, content_type)
    if validator is None:
        if content_type in ("application/json", "text/event-stream"):
            missing = ("(root)", f"the document has no {content_type} schema for this answer")
            _report(where, [] if _deviation(where, missing) else [missing])
        return
    if content_type == "text/event-stream":
        wrapper = _EVENT_STREAMS[httpx2 if isinstance(response, httpx2.Response) else httpx]
        response.stream = wrapper(response.stream, validator, f"{where} (event)", streamed in NAMED_EVENTS)
    elif content_type == "application/json":
        response.read()
        _report(where, _violations(validator, json.loads(response.content), where))


def _violations(validator, body, where: str) -> list:
    return [v for v in openai_spec.violations(validator, body) if not _deviation(where, v)]


def _deviation(where: str, violation: tuple) -> bool:
    path, message = violation
    return any(re.fullmatch(answer, where) and re.fullmatch(at, path) and re.fullmatch(what, message)
               for answer, at, what in DEVIATIONS)


def _report(where: str, problems: list) -> None:
    if not problems:
        return
    log = os.environ.get("SPEC_CHECK_LOG")
    if log:
        with open(log, "a") as out:
            out.writelines(f"{where}: {path}: {message[:300]}\n" for path, message in problems)
        return
    raise AssertionError(f"{where} does not match OpenAI's OpenAPI document:\n  " + "\n  ".join(
        f"{path}: {message[:300]}" for path, message in problems))


class _CheckedEvents:
    """The response's byte stream, passed through unchanged; each complete `data:` event is checked."""

    def __init__(self, stream, validator, where: str, named: bool):
        self.stream, self.validator, self.where, self.named = stream, validator, where, named
        self.buffer = b""

    def __iter__(self):
        for chunk in self.stream:
            self.buffer += chunk
            *events, self.buffer = self.buffer.replace(b"\r\n", b"\n").split(b"\n\n")
            for event in events:
                self._check(event)
            yield chunk

    def _check(self, event: bytes) -> None:
        lines = event.decode().split("\n")
        data = "\n".join(line[5:].lstrip() for line in lines if line.startswith("data:"))
        if not data or data == "[DONE]":
            return
        body = json.loads(data)
        if self.named:
            name = next((line[6:].strip() for line in lines if line.startswith("event:")), "")
            body = {"event": name, "data": body}
        validator = openai_spec.validator("ErrorResponse") if "error" in body else self.validator
        _report(self.where, _violations(validator, body, self.where))

    def close(self):
        self.stream.close()


# The clients insist on their own module's stream type.
_EVENT_STREAMS = {module: type("CheckedEvents", (_CheckedEvents, module.SyncByteStream), {}) for module in (httpx, httpx2)}
