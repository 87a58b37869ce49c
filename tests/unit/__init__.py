"""CPython unit tests of the core (src/api), one module per source module."""
