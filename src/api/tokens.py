"""Token estimates, for when Workers AI reports no usage (embeddings, some streams)."""
import re

TOKEN = re.compile(r"\w+|[^\w\s]")


def estimate(text: str) -> int:
    """Roughly one token per word or punctuation mark, as BPE tokenizers count English."""
    return len(TOKEN.findall(text))
