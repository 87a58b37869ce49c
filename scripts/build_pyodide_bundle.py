"""Build the development Pyodide bundle (`pyodide_dev.capnp.bin`) that workerd loads offline.

With the `python_workers_development` compatibility flag workerd reads this file from its
--pyodide-bundle-disk-cache-dir instead of downloading Cloudflare's signed bundle. The bundle is
the npm `pyodide` package's runtime with the edits workerd's own build applies (see
shared notes: local-workerd.md §3b/§3c). Usage: build_pyodide_bundle.py PYODIDE_PKG_DIR OUT_DIR
"""
import pathlib
import shutil
import subprocess
import sys
import tempfile

PRELUDE = (
    'import { addEventListener, getRandomValues, location, monotonicDateNow, newWasmModule, '
    'patchedLoadLibData, wasmInstantiate } from "pyodide-internal:builtin_wrappers";\n'
)
NO_EVAL = "(() => {throw new Error('eval is not available in this runtime')})()"

# (old, new, expected number of matches in pyodide 314.0.6)
EDITS = [
    ("export default _createPyodideModule;",
     PRELUDE + "export default _createPyodideModule; export { _createPyodideModule };", 1),
    ("new WebAssembly.Module", "newWasmModule", 4),
    ("WebAssembly.instantiate", "wasmInstantiate", 3),
    ("Date.now", "monotonicDateNow", 22),
    ("reportUndefinedSymbols()", "Module.reportUndefinedSymbolsNoOp()", 3),
    ("crypto.getRandomValues(", "getRandomValues(Module, ", 1),
    ("eval(func)", NO_EVAL, 2),
    ("eval(data)", NO_EVAL, 1),
    ("eval(UTF8ToString(ptr))", NO_EVAL, 3),
    ("function loadLibData(){",
     "function loadLibData(){var libData=patchedLoadLibData(Module,libName,flags.rpath);"
     "return flags.loadAsync?Promise.resolve(libData):libData}function unusedOrigLoadLibData(){", 1),
    ("getMemory(", "Module.getMemoryPatched(Module, libName, ", 1),
]

SCHEMA = """@0xd8a1c6f3b2e4a917;
struct Module {
  name @0 :Text;
  union {
    src @1 :Data;
    wasm @4 :Data;
    data @5 :Data;
    json @6 :Text;
  }
  type @2 :Type;
  declaration @3 :Text;
  enum Type { bundle @0; builtin @1; internal @2; }
}
struct Bundle { modules @0 :List(Module); }
const devBundle :Bundle = (modules = [
  (name = "pyodideRuntime-internal:pyodide.asm", src = embed "pyodide.asm.mjs", type = internal),
  (name = "pyodideRuntime-internal:pyodide.asm.wasm", wasm = embed "pyodide.asm.wasm", type = internal),
  (name = "pyodideRuntime-internal:python_stdlib.zip", data = embed "python_stdlib.zip", type = internal),
]);
"""


def patch(source: str) -> str:
    for old, new, expected in EDITS:
        found = source.count(old)
        if found != expected:
            sys.exit(f"pyodide.asm.mjs: expected {expected} match(es) of {old!r}, found {found}; "
                     "the Pyodide version no longer matches this builder")
        source = source.replace(old, new)
    return source


def main(pkg_dir: str, out_dir: str) -> None:
    pkg, out = pathlib.Path(pkg_dir), pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        (work / "pyodide.asm.mjs").write_text(patch((pkg / "pyodide.asm.mjs").read_text()))
        for name in ("pyodide.asm.wasm", "python_stdlib.zip"):
            shutil.copyfile(pkg / name, work / name)
        (work / "bundle.capnp").write_text(SCHEMA)
        with open(out / "pyodide_dev.capnp.bin.tmp", "wb") as sink:
            subprocess.run(["capnp", "eval", "-o", "binary", "bundle.capnp", "devBundle"],
                           cwd=work, stdout=sink, check=True)
    (out / "pyodide_dev.capnp.bin.tmp").replace(out / "pyodide_dev.capnp.bin")


if __name__ == "__main__":
    main(*sys.argv[1:3])
