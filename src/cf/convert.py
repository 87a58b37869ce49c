"""JS ⇄ Python conversion for values crossing the binding boundary."""
import js
from pyodide.ffi import JsProxy, jsnull, to_js

from cf.binary import JsBinary


def to_js_object(value):
    """Python dicts become plain JS objects (not Maps), as bindings expect; None keys are dropped
    by the caller, never sent as null. Bytes kept in the runtime go as their stream."""
    return to_js(value, dict_converter=js.Object.fromEntries, default_converter=_runtime_values)


def _runtime_values(value, convert, cache):
    if isinstance(value, JsBinary):
        return value.stream()
    return value


def to_py(value):
    """A JS result as plain Python: dicts, lists, str, numbers, None for JS null."""
    return _no_nulls(value.to_py() if isinstance(value, JsProxy) else value)


def _no_nulls(value):
    if value is jsnull:
        return None
    if isinstance(value, dict):
        return {key: _no_nulls(item) for key, item in value.items()}
    if isinstance(value, list):
        if value and isinstance(value[0], (int, float)):  # vectors: thousands of numbers, no nulls
            return value
        return [_no_nulls(item) for item in value]
    return value
