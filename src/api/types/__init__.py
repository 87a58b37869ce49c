"""Request bodies as pydantic (v1 API) models, named after openai-python's params types."""
