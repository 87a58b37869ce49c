"""Bytes that stay in the runtime: uploaded files, binary model outputs, stored objects."""
import js


class JsBinary:
    """A JS Blob/File or ReadableStream. `value` goes as it is to bindings and Response bodies; a
    stream can be consumed once."""

    def __init__(self, value, content_type: str, size: int = -1, filename: str = ""):
        self.value, self.content_type, self.size, self.filename = value, content_type, size, filename
        self.metadata = {}  # custom metadata of a stored object

    def stream(self):
        return self.value.stream() if hasattr(self.value, "arrayBuffer") else self.value

    async def read(self) -> bytes:
        if hasattr(self.value, "arrayBuffer"):
            return (await self.value.arrayBuffer()).to_bytes()
        return (await js.Response.new(self.value).arrayBuffer()).to_bytes()


def upload(file) -> JsBinary:
    return JsBinary(file, file.type or "application/octet-stream", int(file.size), file.name or "")
