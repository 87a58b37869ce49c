"""Stop sequences, enforced by us (Workers AI models have none, or ignore them): output is cut
before the first stop sequence, also when one straddles streamed chunks."""
import re
from typing import List, Sequence, Tuple

from api.errors import InvalidRequest

MAX_STOPS = 4  # OpenAI's limit


def stop_sequences(stop) -> List[str]:
    """The request's `stop` (a string or a list) as a list, within OpenAI's limits."""
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    if len(stops) > MAX_STOPS or not all(stops):
        raise InvalidRequest(f"'stop' takes up to {MAX_STOPS} non-empty strings.", param="stop")
    return stops


def find(text: str, stops: Sequence[str]) -> Tuple[int, int]:
    """(start, end) of the stop sequence that completes first in `text` — where generation would
    have stopped — or (-1, -1)."""
    found = [(i + len(s), i) for i, s in ((text.find(s), s) for s in stops) if i >= 0]
    if not found:
        return -1, -1
    end, start = min(found)
    return start, end


class StopScanner:
    """Streamed text in, safe text out: a tail that could begin a stop sequence is held back until
    the next chunk shows whether it does."""

    def __init__(self, stops: Sequence[str]):
        self.stops: List[str] = [s for s in stops if s]
        # Any proper prefix of a stop sequence, at the end of the text; the leftmost match is the
        # longest tail that may still become a stop sequence.
        prefixes = sorted({s[:k] for s in self.stops for k in range(1, len(s))}, key=len, reverse=True)
        self.tail_pattern = re.compile("(?:" + "|".join(map(re.escape, prefixes)) + r")\Z") if prefixes else None
        self.window = max((len(s) for s in self.stops), default=1) - 1
        self.initials = {s[0] for s in self.stops}
        self.held = ""
        self.stopped = False
        self.after = ""  # what followed the stop sequence in the text that held it

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        if not self.held and not any(c in text for c in self.initials):
            return text  # the usual chunk: nothing in it can begin a stop sequence
        text = self.held + text
        start, end = find(text, self.stops)
        if start >= 0:
            self.stopped, self.held, self.after = True, "", text[end:]
            return text[:start]
        keep = self._possible_start(text)
        self.held = text[len(text) - keep:] if keep else ""
        return text[:len(text) - keep]

    def flush(self) -> str:
        """At the end of the stream: what was held back was not a stop sequence after all."""
        text, self.held = self.held, ""
        return text

    def _possible_start(self, text: str) -> int:
        """Length of the longest tail of `text` that a stop sequence begins with."""
        if self.tail_pattern is None:
            return 0
        found = self.tail_pattern.search(text, max(0, len(text) - self.window))
        return len(text) - found.start() if found else 0
