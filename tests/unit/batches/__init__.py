"""Unit tests of api.batches and /v1/batches."""
