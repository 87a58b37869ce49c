"""The plain-Python core of workers-openai: imports only the stdlib, pydantic and api.*."""
