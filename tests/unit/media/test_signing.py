"""api.media.signing: HMAC-signed, expiring URLs; any change to key, expiry or signature is refused."""
from urllib.parse import parse_qsl, urlsplit

import pytest

from api.media import signing
from api.errors import ApiError, InvalidRequest, PermissionDenied

SECRET = "s3cret"


def parts(url: str):
    split = urlsplit(url)
    return split.path, dict(parse_qsl(split.query))


def test_signed_url_shape_and_check():
    url = signing.signed_url("https://w.example", "/v1/images/content", "images/img_1.png", SECRET, 1000)
    path, query = parts(url)
    assert path == "/v1/images/content/images/img_1.png"
    assert query == {"expires": "1000", "sig": signing.signature(SECRET, "images/img_1.png", 1000)}
    assert "=" not in query["sig"] and len(query["sig"]) == 43  # unpadded base64url of SHA-256
    signing.check(SECRET, "images/img_1.png", query["expires"], query["sig"], now=1000)


@pytest.mark.parametrize("key, expires, secret", [
    ("images/img_2.png", 1000, SECRET), ("images/img_1.png", 1001, SECRET), ("images/img_1.png", 1000, "other"),
])
def test_any_change_breaks_the_signature(key, expires, secret):
    sig = signing.signature(SECRET, "images/img_1.png", 1000)
    with pytest.raises(PermissionDenied) as raised:
        signing.check(secret, key, str(expires), sig, now=0)
    assert (raised.value.status, raised.value.code) == (403, "invalid_signature")


def test_expiry_is_checked_after_the_signature():
    sig = signing.signature(SECRET, "k", 1000)
    with pytest.raises(PermissionDenied) as raised:
        signing.check(SECRET, "k", "1000", sig, now=1000.5)
    assert raised.value.code == "url_expired"
    with pytest.raises(PermissionDenied) as raised:
        signing.check(SECRET, "k", "1000", "", now=5000)
    assert raised.value.code == "invalid_signature"


def test_a_missing_expiry_is_400():
    with pytest.raises(InvalidRequest) as raised:
        signing.check(SECRET, "k", "", "sig", now=0)
    assert (raised.value.status, raised.value.param) == (400, "expires")


def test_require_secret():
    assert signing.require_secret("x") == "x"
    with pytest.raises(ApiError) as raised:
        signing.require_secret(None)
    assert (raised.value.status, raised.value.code) == (500, "url_signing_key_missing")
