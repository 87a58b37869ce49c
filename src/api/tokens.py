"""Token estimates, for when Workers AI reports no usage (embeddings, some streams)."""
import re

_TOKEN = re.compile(r"\w+|[^\w\s]")


def estimate(text: str) -> int:
    """Roughly one token per word or punctuation mark, as BPE tokenizers count English."""
    return len(_TOKEN.findall(text))
