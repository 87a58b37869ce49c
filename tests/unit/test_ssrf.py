"""api.ssrf: the URL classifier in every textual encoding of every forbidden range, and the
redirect-following fetch that checks each hop before it is requested."""
import ipaddress
import random

import pytest

from api import ssrf
from api.errors import InvalidRequest
from fakes import DictWeb
from unit.support import run

PUBLIC = ["https://example.com/cat.png", "http://cdn.example.com:8080/a.png?b=1#c", "HTTPS://EXAMPLE.COM/x",
          "https://example.com./x", "https://bücher.de/bild.png", "https://xn--bcher-kva.de/", "http://1.1.1.1/",
          "http://8.8.8.8:443/", "https://[2606:4700:4700::1111]/", "http://[::ffff:8.8.8.8]/", "http://[64:ff9b::808:808]/",
          "http://[2002:808:808::1]/", "http://my_host.example.org/", "https://example.com:0/",
          "http://127.0.0.1.nip.io/"]  # a public name that resolves to loopback: not resolved by us (README)


@pytest.mark.parametrize("url", PUBLIC)
def test_public_urls_are_allowed(url):
    ssrf.check_url(url)


LOOPBACK_FORMS = ["127.0.0.1", "2130706433", "0x7f000001", "0X7F000001", "017700000001", "0177.0.0.1", "0177.0.0.01",
                  "127.1", "127.0.1", "0x7f.1", "0x7f.0x0.0x0.0x1", "127.000.000.001", "0x7F.0.0.1", "127.0.0.1.",
                  "%31%32%37.0.0.1", "%31%32%37%2e%30%2e%30%2e%31", "１２７.０.０.１", "127。0。0。1", "127．0．0．1",
                  "①②⑦.0.0.1", "127.255.255.254", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]",
                  "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:1]", "[::127.0.0.1]", "[::ffff:0:127.0.0.1]",
                  "[64:ff9b::127.0.0.1]", "[2002:7f00:1::]", "[2002:7f00:0001:ffff::1]"]


@pytest.mark.parametrize("host", LOOPBACK_FORMS)
@pytest.mark.parametrize("template", ["http://{}/", "https://{}:8080/x.png", "http://{}"])
def test_loopback_in_every_encoding_is_refused(host, template):
    message = refused(template.format(host))
    assert "loopback address" in message


@pytest.mark.parametrize("url, why", [
    ("http://0.0.0.0/", "an unspecified address"), ("http://0/", "an unspecified address"),
    ("http://[::]/", "an unspecified address"), ("http://10.1.2.3/", "a private address"),
    ("http://172.16.0.1/", "a private address"), ("http://172.31.255.255/", "a private address"),
    ("http://192.168.1.1/", "a private address"), ("http://3232235777/", "a private address"),
    ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
    ("http://0xa9fea9fe/", "a link-local address"), ("http://[::ffff:169.254.169.254]/", "a link-local address"),
    ("http://[fe80::1]/", "a link-local address"), ("http://100.64.0.1/", "a shared (CGNAT) address"),
    ("http://100.127.255.254/", "a shared (CGNAT) address"), ("http://224.0.0.1/", "a multicast address"),
    ("http://239.255.255.250/", "a multicast address"), ("http://[ff02::1]/", "a multicast address"),
    ("http://240.0.0.1/", "a reserved address"), ("http://255.255.255.255/", "a reserved address"),
    ("http://198.18.0.1/", "a benchmarking address"), ("http://198.19.255.255/", "a benchmarking address"),
    ("http://192.0.2.1/", "a documentation address"), ("http://198.51.100.7/", "a documentation address"),
    ("http://203.0.113.9/", "a documentation address"), ("http://[2001:db8::1]/", "a documentation address"),
    ("http://[3fff::1]/", "a documentation address"), ("http://192.0.0.8/", "an IETF protocol address"),
    ("http://192.88.99.1/", "a 6to4 relay address"), ("http://[fc00::1]/", "a unique local address"),
    ("http://[fd12:3456::1]/", "a unique local address"), ("http://[fec0::1]/", "a site-local address"),
    ("http://[100::1]/", "a discard-only address"), ("http://[64:ff9b:1::a00:1]/", "a local-use NAT64 address"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"), ("http://[4000::1]/", "a reserved address"),
    ("http://[::ffff:10.0.0.1]/", "embedding 10.0.0.1, a private address"),
    ("http://[2002:c0a8:101::]/", "embedding 192.168.1.1, a private address"),
    ("http://[64:ff9b::a9fe:a9fe]/", "embedding 169.254.169.254, a link-local address"),
])
def test_every_forbidden_range_is_refused(url, why):
    assert why in refused(url)


@pytest.mark.parametrize("url, why", [
    ("http://localhost/", "local name"), ("http://LOCALHOST:8787/", "local name"), ("http://localhost./", "local name"),
    ("http://api.localhost/", "local name"), ("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", "local name"), ("http://locａlhost/", "local name"),
    ("http://%6c%6f%63%61%6c%68%6f%73%74/", "local name"), ("http://printer.local/", "local name"),
    ("http://metadata.google.internal/computeMetadata/v1/", "local name"), ("http://db.internal./", "local name"),
    ("http://router.home.arpa/", "local name"), ("http://nas.lan/", "local name"), ("http://box.localdomain/", "local name"),
    ("http://fileserver/", "single-label"), ("http://metadata/", "single-label"), ("http://x.test/", "local name"),
    ("http://cdn.example.com@127.0.0.1/", "credentials"), ("http://user:pass@example.com/", "credentials"),
    ("http://@example.com/", "credentials"), ("http://127.0.0.1:80@example.com/", "credentials"),
    ("ftp://example.com/a.png", "only http and https"), ("file:///etc/passwd", "only http and https"),
    ("gopher://127.0.0.1:6379/_INFO", "only http and https"), ("javascript:alert(1)", "only http and https"),
    ("//example.com/a.png", "only http and https"), ("example.com/a.png", "only http and https"),
    ("http:/example.com/", "not an absolute"), ("http:example.com", "not an absolute"),
    ("http://example.com\\@127.0.0.1/", "backslashes"), ("http://127.0.0.1\\.example.com/", "backslashes"),
    ("http://exa mple.com/", "spaces"), ("http://example.com\t/", "control characters"),
    (" http://127.0.0.1/", "spaces"), ("http://example.com/\n", "control characters"),
    ("http://1.2.3.4.5/", "not a valid IPv4"), ("http://256.0.0.1/", "not a valid IPv4"),
    ("http://08.0.0.1/", "not a valid IPv4"), ("http://4294967296/", "not a valid IPv4"),
    ("http://0x100000000/", "not a valid IPv4"), ("http://example.123/", "not a valid IPv4"),
    ("http://[::1/", "not a valid IPv6"), ("http://[::g]/", "not a valid IPv6"), ("http://[fe80::1%25eth0]/", "zone"),
    ("http://example.com:99999/", "port"), ("http://example.com:8o/", "port"), ("http:///", "not a valid host"),
    ("http://%00/", "not a valid host"), ("http://exa%2fmple.com/", "not a valid host"),
    ("http://a..b.com/", "not a valid host"), ("http://ex%ffample.com/", "not a valid host"),
    ("http://" + "a" * 9000 + ".com/", "over 8192 characters"),
])
def test_names_schemes_credentials_and_malformed_urls_are_refused(url, why):
    assert why in refused(url)


def refused(url: str) -> str:
    with pytest.raises(InvalidRequest) as raised:
        ssrf.check_url(url)
    assert (raised.value.status, raised.value.code) == (400, "invalid_image_url")
    return raised.value.message


# --- every address, every encoding ------------------------------------------------------------------

EXTRA = [ipaddress.IPv4Network(n) for n in ("192.0.0.0/24", "192.88.99.0/24", "224.0.0.0/4")]


def oracle(address: ipaddress.IPv4Address) -> bool:
    """Public per Python's IANA tables, plus the blocks they count as global but nobody may fetch."""
    return address.is_global and not any(address in net for net in EXTRA)


def encodings(address: ipaddress.IPv4Address) -> list:
    a, b, c, d = address.packed
    n = int(address)
    return [str(address), str(n), hex(n), "0" + oct(n)[2:], f"{a}.{(b << 16) + (c << 8) + d}",
            f"{a}.{b}.{(c << 8) + d}", f"{hex(a)}.{oct(b).replace('0o', '0')}.{c}.{hex(d)}",
            f"0{a:o}.0{b:o}.0{c:o}.0{d:o}", "".join(f"%{ord(ch):02x}" for ch in str(address)),
            str(address).translate(str.maketrans("0123456789.", "０１２３４５６７８９。")), f"[::ffff:{address}]",
            f"[::ffff:{n >> 16:x}:{n & 0xffff:x}]", f"[64:ff9b::{address}]", f"[2002:{n >> 16:x}:{n & 0xffff:x}::1]"]


def sample() -> list:
    rng = random.Random(11)
    edges = [net for net, _ in ssrf._V4] + EXTRA
    addresses = {ipaddress.IPv4Address(rng.getrandbits(32)) for _ in range(300)}
    for net in edges:
        for value in (int(net.network_address) - 1, int(net.network_address), int(net.broadcast_address),
                      int(net.broadcast_address) + 1):
            if 0 <= value < 2 ** 32:
                addresses.add(ipaddress.IPv4Address(value))
    return sorted(addresses)


@pytest.mark.parametrize("address", sample(), ids=str)
def test_every_encoding_of_an_address_gets_the_same_verdict(address):
    public = oracle(address)
    for host in encodings(address):
        assert (ssrf.refusal(host) is None) == public, (host, ssrf.refusal(host))


# --- redirects ----------------------------------------------------------------------------------------

def fetch(web: DictWeb, url: str):
    return run(web.fetch_bytes(url, 1000))


def test_redirects_are_followed_and_each_hop_checked():
    web = DictWeb()
    web.pages = {"https://a.example/1": (302, "https://b.example/2"), "https://b.example/2": (301, "/3"),
                 "https://b.example/3": (307, "//c.example/4"), "https://c.example/4": (b"PNG", "image/png")}
    assert fetch(web, "https://a.example/1") == (b"PNG", "image/png")
    assert web.contacted == ["https://a.example/1", "https://b.example/2", "https://b.example/3", "https://c.example/4"]


@pytest.mark.parametrize("location", ["http://127.0.0.1/", "http://2130706433/admin", "//localhost/x",
                                      "http://[::1]:8787/v1/models", "http://169.254.169.254/latest/meta-data/",
                                      "http://cdn.example.com@127.0.0.1/", "/\\127.0.0.1/", "file:///etc/passwd",
                                      "http://10.0.0.1/"])
def test_a_redirect_to_a_forbidden_url_is_refused_before_it_is_requested(location):
    web = DictWeb()
    web.pages = {"https://public.example/cat.png": (302, location)}
    with pytest.raises(InvalidRequest) as raised:
        fetch(web, "https://public.example/cat.png")
    assert (raised.value.status, raised.value.code) == (400, "invalid_image_url")
    assert web.contacted == ["https://public.example/cat.png"]


def test_at_most_three_redirects():
    web = DictWeb()
    web.pages = {f"https://e.example/{i}": (302, f"https://e.example/{i + 1}") for i in range(4)}
    web.pages["https://e.example/3"] = (b"PNG", "image/png")
    assert fetch(web, "https://e.example/0") == (b"PNG", "image/png")
    web.pages["https://e.example/3"] = (302, "https://e.example/4")
    web.pages["https://e.example/4"] = (b"PNG", "image/png")
    with pytest.raises(InvalidRequest) as raised:
        fetch(web, "https://e.example/0")
    assert "redirected more than 3 times" in raised.value.message
    assert len(web.contacted) == 4 + 4


@pytest.mark.parametrize("status", [404, 500, 304, 300])
def test_other_answers_are_a_400(status):
    web = DictWeb()
    web.pages = {"https://e.example/x": (status, None)}
    with pytest.raises(InvalidRequest) as raised:
        fetch(web, "https://e.example/x")
    assert raised.value.code == "invalid_image_url" and f"gave HTTP {status}" in raised.value.message


def test_a_forbidden_first_url_is_never_requested():
    web = DictWeb()
    with pytest.raises(InvalidRequest):
        fetch(web, "http://127.0.0.1:8787/v1/models")
    assert web.contacted == []


# --- origins the operator allows ----------------------------------------------------------------------

def test_origins_are_parsed_to_a_canonical_form():
    assert ssrf.origins("http://127.0.0.1:8080, https://LOCALHOST/ http://0x7f000001:81/  http://[::1]:80") == {
        "http://127.0.0.1:8080", "https://localhost:443", "http://127.0.0.1:81", "http://[::1]:80"}
    assert ssrf.origins(None) == ssrf.origins("") == frozenset()


@pytest.mark.parametrize("text", ["127.0.0.1:8080", "ftp://host", "http://user@host", "http://host:99999",
                                  "http://[::1", "http:host"])
def test_origins_that_are_not_origins_are_a_configuration_error(text):
    with pytest.raises(ValueError):
        ssrf.origins(text)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/cat.png", "http://2130706433:8080/", "http://127.1:8080/x",
                                 "http://%31%32%37.0.0.1:8080/"])
def test_an_allowed_origin_is_fetched_in_any_spelling(url):
    ssrf.check_url(url, ssrf.origins("http://127.0.0.1:8080"))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081/", "https://127.0.0.1:8080/", "http://127.0.0.2:8080/",
                                 "http://localhost:8080/", "http://user@127.0.0.1:8080/", "http://127.0.0.1/"])
def test_only_the_exact_allowed_origin_is_exempt(url):
    with pytest.raises(InvalidRequest):
        ssrf.check_url(url, ssrf.origins("http://127.0.0.1:8080"))


def test_an_allowed_origin_still_may_not_redirect_elsewhere_private():
    web = DictWeb()
    web.allowed = ssrf.origins("http://127.0.0.1:8080")
    web.pages = {"http://127.0.0.1:8080/a": (302, "/b"), "http://127.0.0.1:8080/b": (302, "http://127.0.0.1:9090/c")}
    with pytest.raises(InvalidRequest) as raised:
        fetch(web, "http://127.0.0.1:8080/a")
    assert "127.0.0.1 is a loopback address" in raised.value.message
    assert web.contacted == ["http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b"]
