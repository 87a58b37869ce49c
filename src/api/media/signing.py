"""Signed, expiring URLs for objects we hand out (image results): like OpenAI's, they work without
an API key, and only until they expire; a tampered signature is refused."""
import base64
import hashlib
import hmac
from urllib.parse import quote

from api.errors import ApiError, InvalidRequest, PermissionDenied


def signature(secret: str, key: str, expires: int) -> str:
    digest = hmac.new(secret.encode(), f"{key}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_url(origin: str, route: str, key: str, secret: str, expires: int) -> str:
    return f"{origin}{route}/{quote(key)}?expires={expires}&sig={signature(secret, key, expires)}"


def check(secret: str, key: str, expires: str, sig: str, now: float) -> None:
    try:
        deadline = int(expires)
    except ValueError:
        raise InvalidRequest("The URL has no valid 'expires'.", param="expires") from None
    if not hmac.compare_digest(signature(secret, key, deadline), sig or ""):
        raise PermissionDenied("The URL's signature is not valid.", code="invalid_signature")
    if now > deadline:
        raise PermissionDenied("The URL has expired.", code="url_expired")


def require_secret(secret) -> str:
    if not secret:
        raise ApiError("URL results need the URL_SIGNING_KEY secret to be set on the worker "
                       "(wrangler secret put URL_SIGNING_KEY); ask for b64_json meanwhile.",
                       code="url_signing_key_missing")
    return secret
