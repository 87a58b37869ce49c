"""The console's JSON routes (/v1/console/...): the signed-in key, its owner's usage, and keys
management for admin keys. The page itself is static (console/ at the repo root)."""
