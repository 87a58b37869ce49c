"""The Workers edge: the only package that touches js, pyodide and the workers SDK."""
