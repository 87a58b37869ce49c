"""Every field of every request model (found by introspection, so new fields are covered) refuses
each JSON type it does not take with a 400 naming the field's path; text from query strings and
multipart forms parses only when it is written as the field's type."""
import copy
import importlib
import inspect
import pkgutil
import typing

import pytest
from pydantic.v1 import BaseModel, StrictBool
from pydantic.v1.fields import MAPPING_LIKE_SHAPES, SHAPE_LIST, SHAPE_SINGLETON

import api.types
from api.errors import InvalidRequest
from api.types.common import Params
from api.types.assistants import FileSearchResources
from api.types.vector_stores import FileBatchCreateParams
from api.validate import param_path, parse, parse_text

MODULES = [importlib.import_module(f"api.types.{m.name}") for m in pkgutil.iter_modules(api.types.__path__)]
MODELS = {cls for module in MODULES for _, cls in inspect.getmembers(module, inspect.isclass)
          if issubclass(cls, Params) and cls.__module__ == module.__name__}
# Every model is walked from itself too: some (Responses input items) are parsed on their own.
ROOTS = sorted(MODELS, key=lambda m: (m.__module__, m.__name__))
# Parsed from query strings or multipart forms (api.validate.parse_text), where values are text.
TEXT_ROOTS = {"FileCreateParams@files", "FileListParams", "ListParams", "TranscriptionCreateParams",
              "TranslationCreateParams", "ImageEditParams", "ImageCreateVariationParams", "ConsoleListParams",
              "UsageParams", "RetrieveParams"}
OMIT_FROM_EXAMPLES = {FileBatchCreateParams: {"files"},  # exactly one of file_ids and files
                      FileSearchResources: {"vector_stores"}}  # … of vector_store_ids and vector_stores
JSON_VALUES = {"string": "5", "integer": 5, "number": 1.5, "boolean": True, "array": [], "object": {}, "null": None}


def label(model) -> str:
    return f"{model.__name__}@{model.__module__.rsplit('.', 1)[-1]}"


def accepts(field) -> set:
    """The JSON types a field's type takes (null aside)."""
    if field.shape == SHAPE_LIST:
        return {"array"}
    if field.shape in MAPPING_LIKE_SHAPES:
        return {"object"}
    if field.sub_fields:
        return set().union(*map(accepts, field.sub_fields))
    kind = field.type_
    if typing.get_origin(kind) is typing.Literal:
        return {"string"}
    if kind is typing.Any:
        return set(JSON_VALUES)
    if issubclass(kind, (BaseModel, dict)):
        return {"object"}
    if issubclass(kind, StrictBool):
        return {"boolean"}
    if issubclass(kind, int):
        return {"integer"}
    if issubclass(kind, float):
        return {"integer", "number"}
    assert issubclass(kind, str), kind
    return {"string"}


def valid(field):
    """A valid JSON value for a field."""
    if field.shape == SHAPE_LIST:
        return [valid(field.sub_fields[0])]
    if field.shape in MAPPING_LIKE_SHAPES:
        return {valid(field.key_field): valid(field.sub_fields[0])}
    if field.sub_fields:
        return valid(field.sub_fields[0])
    kind = field.type_
    if typing.get_origin(kind) is typing.Literal:
        return typing.get_args(kind)[0]
    if kind is typing.Any:
        return "x"
    if issubclass(kind, BaseModel):
        return example(kind)
    if issubclass(kind, dict):
        return {}
    if issubclass(kind, StrictBool):
        return True
    if issubclass(kind, (int, float)):
        return next(v for v in (getattr(kind, "ge", None), getattr(kind, "le", None), 1) if v is not None)
    return "x" * max(1, getattr(kind, "min_length", None) or 0)


def example(model) -> dict:
    return {f.alias: valid(f) for f in model.__fields__.values() if f.alias not in OMIT_FROM_EXAMPLES.get(model, ())}


def reachable(field) -> list:
    """(sub-model, path from the field to it) for each model a field holds, through lists and unions."""
    if field.shape == SHAPE_LIST:
        return [(model, (0, *hops)) for model, hops in reachable(field.sub_fields[0])]
    if field.shape != SHAPE_SINGLETON:
        return []
    if field.sub_fields:
        return [found for sub in field.sub_fields for found in reachable(sub)]
    return [(field.type_, ())] if isinstance(field.type_, type) and issubclass(field.type_, BaseModel) else []


def put(body, path, value):
    for hop in path[:-1]:
        body = body[hop]
    body[path[-1]] = value


def walk(model, prefix, body):
    """(path, field, body): every field at any depth, with a valid body in which its path exists."""
    for field in model.__fields__.values():
        path = (*prefix, field.alias)
        yield path, field, body
        for sub, hops in reachable(field):
            branch, value = copy.deepcopy(body), example(sub)
            for _ in hops:
                value = [value]
            put(branch, path, value)
            yield from walk(sub, (*path, *hops), branch)


CASES = [(root, path, field, body, kind) for root in ROOTS for path, field, body in walk(root, (), example(root))
         for kind in sorted(set(JSON_VALUES) - accepts(field) - ({"null"} if field.allow_none else set()))]


def test_models_are_found():
    assert len(ROOTS) >= 40 and len(CASES) > 1000


@pytest.mark.parametrize("root", ROOTS, ids=label)
def test_examples_are_valid(root):
    parse(root, example(root))


@pytest.mark.parametrize("root, path, field, body, kind", CASES,
                         ids=[f"{label(c[0])}:{param_path(c[1])}:{c[4]}" for c in CASES])
def test_each_wrong_json_type_is_a_400_naming_the_field(root, path, field, body, kind):
    body = copy.deepcopy(body)
    put(body, path, JSON_VALUES[kind])
    with pytest.raises(InvalidRequest) as raised:
        parse(root, body)
    error = raised.value
    assert (error.status, error.param) == (400, param_path(path)), error.message
    assert error.code in ("invalid_type", "invalid_value", "missing_required_parameter")


TEXT_FIELDS = [(root, path, field, body) for root in ROOTS if label(root) in TEXT_ROOTS or root.__name__ in TEXT_ROOTS
               for path, field, body in walk(root, (), example(root))
               if field.type_ is not typing.Any and accepts(field) & {"integer", "boolean"}]
TEXT = {"integer": (["10", "-3"], ["1.5", "ten", "", "1e3", "true"]),
        "number": (["0.5", "1", "2e-1"], ["half", "", ".5", "true"]),
        "boolean": (["true", "false"], ["True", "1", "yes", ""])}


def test_text_models_are_found():
    assert {label(r) for r, *_ in TEXT_FIELDS} >= {"FileListParams@files", "ListParams@vector_stores",
                                                     "ImageEditParams@images", "TranscriptionCreateParams@audio"}


@pytest.mark.parametrize("root, path, field, body", TEXT_FIELDS,
                         ids=[f"{label(c[0])}:{param_path(c[1])}" for c in TEXT_FIELDS])
def test_text_is_parsed_deliberately(root, path, field, body):
    kind = "number" if "number" in accepts(field) else next(iter(accepts(field) & {"integer", "boolean"}))
    good, bad = TEXT[kind]
    value = valid(field)
    for text in [str(value).lower()] + ([] if kind == "integer" and getattr(field.type_, "ge", None) else good):
        texts = copy.deepcopy(body)
        put(texts, path, text)
        try:
            parse_text(root, texts)
        except InvalidRequest as exc:  # a text of the right type may still be out of range
            assert exc.code == "invalid_value" and "ensure this value" in exc.message, (text, exc.message)
    for text in bad:
        texts = copy.deepcopy(body)
        put(texts, path, text)
        with pytest.raises(InvalidRequest) as raised:
            parse_text(root, texts)
        assert (raised.value.param, raised.value.code) == (param_path(path), "invalid_type"), text
