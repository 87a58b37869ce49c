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


def dispose(value) -> None:
    """Dispose of an RPC result (a service binding's: locally, the stand-ins'). workerd gives every
    object an RPC call returns a [Symbol.dispose], which Pyodide exposes as a context manager; one
    left to the GC logs "An RPC result was not disposed properly" if its callee set a disposer."""
    if isinstance(value, JsProxy) and hasattr(value, "__exit__"):
        value.__exit__(None, None, None)


def settled(result):
    """A binding call's result as plain Python, the result itself disposed of."""
    try:
        return to_py(result)
    finally:
        dispose(result)


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
