"""Text out of an uploaded file (by extension; PDF through pypdf, imported only when needed) and
token-window chunks of it. Token counts are api.tokens estimates, not the model's tokenizer."""
from html.parser import HTMLParser
from typing import List, Tuple

from api import safejson, tokens

MAX_TEXT_BYTES = 10 * 1024 * 1024  # files over this are refused (ingestion runs in one consumer call)
_HTML = {"html", "htm", "xhtml"}
_PDF = {"pdf"}
_BINARY = {"png", "jpg", "jpeg", "gif", "webp", "zip", "gz", "tar", "mp3", "mp4", "wav", "exe", "bin",
           "docx", "pptx", "xlsx", "doc"}


class BadFile(Exception):
    """A file we cannot ingest: it ends `failed` with this code (OpenAI's last_error codes
    invalid_file / unsupported_file) and message; retrying would not help."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def extract(filename: str, data: bytes) -> str:
    """The file's text: PDF pages, HTML without its tags, and any other UTF-8 text as it is (txt,
    md, json, csv, code files …)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not data:
        raise BadFile("invalid_file", "The file is empty.")
    if len(data) > MAX_TEXT_BYTES:
        raise BadFile("invalid_file", f"The file is over {MAX_TEXT_BYTES} bytes, the limit for search.")
    if extension in _PDF:
        text = _pdf_text(data)
    elif extension in _BINARY:
        raise BadFile("unsupported_file", f"Files of type .{extension} cannot be searched.")
    else:
        text = _utf8(data)
        if extension in _HTML:
            text = _html_text(text)
        elif extension == "json":
            text = _json_text(text)
    if not text.strip():
        raise BadFile("invalid_file", "The file contains no text.")
    return text


def _utf8(data: bytes) -> str:
    if b"\0" in data[:8000]:  # as git decides: text files have no NUL bytes
        raise BadFile("invalid_file", "The file is binary, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile("invalid_file", "The file is not UTF-8 text.") from None


def _json_text(text: str) -> str:
    try:
        safejson.loads(text)
    except ValueError:
        raise BadFile("invalid_file", "The file is not valid JSON.") from None
    return text


class _Text(HTMLParser):
    _SKIP = {"script", "style", "head", "noscript", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: List[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skipping += 1

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def _html_text(text: str) -> str:
    parser = _Text()
    parser.feed(text)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def _pdf_text(data: bytes) -> str:
    import io  # noqa: PLC0415 - pypdf is large: imported on the first PDF, not at startup
    try:
        import pypdf  # noqa: PLC0415
    except ImportError:
        raise BadFile("unsupported_file", "PDF files cannot be searched here (pypdf is missing).") from None
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception:  # noqa: BLE001 - pypdf raises many kinds for damaged files
        raise BadFile("invalid_file", "The PDF could not be read.") from None


def chunk(text: str, max_tokens: int, overlap: int) -> List[Tuple[str, int]]:
    """(text, estimated tokens) windows of at most max_tokens, each starting max_tokens - overlap
    tokens after the previous one; a window's text runs from its first token to its last."""
    spans = [m.span() for m in tokens.TOKEN.finditer(text)]
    step, chunks = max_tokens - overlap, []
    for start in range(0, len(spans), step):
        window = spans[start:start + max_tokens]
        chunks.append((text[window[0][0]:window[-1][1]], len(window)))
        if start + max_tokens >= len(spans):
            break
    return chunks
