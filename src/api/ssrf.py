"""The SSRF guard: which URLs the worker may fetch on a user's behalf (image URLs today), and the
redirect-following fetch that checks every hop before it connects.

A URL is refused unless it is http(s), has no credentials, and names a public host: never a
loopback, private, link-local (169.254.169.254 included), CGNAT, multicast, unspecified, reserved,
benchmarking or documentation address, in any of the textual forms the WHATWG URL parser (the
runtime's fetch) accepts — 2130706433, 0x7f000001, 0177.0.0.1, 127.1, percent-encoded or
full-width digits, IPv6 literals and the IPv4 addresses embedded in them — nor a local name
(localhost, *.local, *.internal, single labels) — unless the operator allows its origin
(ALLOWED_PRIVATE_ORIGINS, e.g. an internal image server of a self-hosted workerd). Host names are not
resolved (Workers has no DNS API): a public name that resolves to a private address is a residual
risk (README)."""
import ipaddress
import re
from dataclasses import dataclass
from typing import Awaitable, Callable, FrozenSet, Optional, Tuple, Union
from urllib.parse import unquote, urljoin

from api.errors import InvalidRequest

MAX_REDIRECTS = 3
MAX_URL_LENGTH = 8192
REDIRECTS = (301, 302, 303, 307, 308)
_PORTS = {"http": 80, "https": 443}  # the schemes we fetch, with their default ports
IP = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

_V4 = [(ipaddress.IPv4Network(net), kind) for net, kind in (
    ("0.0.0.0/8", "an unspecified address"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a shared (CGNAT) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address"),  # 169.254.169.254: cloud metadata services
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "an IETF protocol address"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a 6to4 relay address"),
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),  # 255.255.255.255 included
)]
# IPv6 outside 2000::/3 (global unicast) is refused, except the forms that embed an IPv4 address,
# which is checked instead; inside it, these blocks are not public either.
_V6 = [(ipaddress.IPv6Network(net), kind) for net, kind in (
    ("::1/128", "a loopback address"),
    ("::/128", "an unspecified address"),
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
    ("100::/64", "a discard-only address"),
    ("2001::/23", "an IETF protocol address (Teredo included)"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("fc00::/7", "a unique local address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)]
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_EMBEDDING = [ipaddress.IPv6Network(net) for net in (  # the IPv4 address is the last 32 bits
    "::ffff:0:0/96", "::/96", "::ffff:0:0:0/96", "64:ff9b::/96")]
_SIXTOFOUR = ipaddress.IPv6Network("2002::/16")
_LOCAL_NAMES = ("localhost", "local", "internal", "localdomain", "home.arpa", "home", "lan", "corp",
                "intranet", "test", "invalid", "onion")
_URL = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):(//)?([^/?#]*)")
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
_IPV4_NUMBER = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")


@dataclass
class Hop:
    """One answer, its redirects not followed: `body` only for a 2xx."""
    status: int
    location: Optional[str] = None
    content_type: str = ""
    body: bytes = b""


Get = Callable[[str], Awaitable[Hop]]  # one GET of a checked URL, redirects not followed


async def fetch(get: Get, url: str, allowed: FrozenSet[str] = frozenset()) -> Tuple[bytes, str]:
    """(body, content type) of a public URL, following at most MAX_REDIRECTS redirects, each
    checked before it is requested. `allowed`: private origins the operator lets us fetch from."""
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, allowed)
        answer = await get(url)
        if answer.status in REDIRECTS and answer.location:
            url = urljoin(url, answer.location.strip())
            continue
        if not 200 <= answer.status < 300:
            raise _refused(f"Fetching {_short(url)} gave HTTP {answer.status}.")
        return answer.body, answer.content_type
    raise _refused(f"Fetching {_short(url)} was redirected more than {MAX_REDIRECTS} times.")


def check_url(url: str, allowed: FrozenSet[str] = frozenset()) -> None:
    """InvalidRequest (`invalid_image_url`) unless `url` may be fetched: see the module's docstring."""
    if len(url) > MAX_URL_LENGTH:
        raise _refused(f"The URL is over {MAX_URL_LENGTH} characters.")
    if re.search(r"[\x00-\x20\x7f\\]", url):  # the runtime's parser would rewrite these: no guessing
        raise _refused(f"Refusing to fetch {_short(url)}: it has spaces, control characters or backslashes.")
    found = _URL.match(url)
    if not found or found[1].lower() not in _PORTS:
        raise _refused(f"Refusing to fetch {_short(url)}: only http and https URLs are fetched.")
    if found[2] is None:
        raise _refused(f"Refusing to fetch {_short(url)}: it is not an absolute http(s) URL.")
    if "@" in found[3]:
        raise _refused(f"Refusing to fetch {_short(url)}: URLs with credentials are not fetched.")
    why = refusal(found[3], found[1].lower(), allowed)
    if why:
        raise _refused(f"Refusing to fetch {_short(url)}: {why}.")


def refusal(authority: str, scheme: str = "http", allowed: FrozenSet[str] = frozenset()) -> Optional[str]:
    """Why the host[:port] of an http(s) URL may not be fetched, or None when it may."""
    host, port = _split(authority)
    if port is None:
        return "its port is not a number from 0 to 65535"
    try:
        target = _host(host)
    except ValueError as exc:
        return str(exc)
    if _origin(scheme, target, port) in allowed:
        return None
    if isinstance(target, str):
        labels = target.split(".")
        if labels[-1] in _LOCAL_NAMES or ".".join(labels[-2:]) in _LOCAL_NAMES:
            return f"{target} is a local name"
        if len(labels) == 1:
            return f"{target} is a single-label name, which resolves only on local networks"
        return None
    kind = _forbidden(target)
    return f"{target} is {kind}" if kind else None


def origins(text: Optional[str]) -> FrozenSet[str]:
    """A list of origins (scheme://host[:port], separated by commas or spaces) in the canonical
    form `refusal` compares: the ALLOWED_PRIVATE_ORIGINS variable. ValueError for anything else."""
    found = set()
    for item in (text or "").replace(",", " ").split():
        parts = _URL.fullmatch(item.rstrip("/"))
        host, port = _split(parts[3]) if parts and parts[2] and parts[1].lower() in _PORTS else ("", None)
        if port is None or "@" in host:
            raise ValueError(f"{item!r} is not an http(s) origin")
        found.add(_origin(parts[1].lower(), _host(host), port))
    return frozenset(found)


def _origin(scheme: str, target: Union[IP, str], port: int) -> str:
    host = f"[{target}]" if isinstance(target, ipaddress.IPv6Address) else str(target)
    return f"{scheme}://{host}:{_PORTS[scheme] if port < 0 else port}"


def _host(host: str) -> Union[IP, str]:
    """The address a host names, or its canonical name; ValueError saying why it is neither."""
    if host.startswith("["):
        try:
            address = ipaddress.IPv6Address(host[1:-1] if host.endswith("]") else host)
        except ValueError:
            raise ValueError("its host is not a valid IPv6 address") from None
        if address.scope_id is not None:
            raise ValueError("its host has an IPv6 zone")
        return address
    try:
        name = _domain(host)
    except ValueError:
        raise ValueError("its host is not a valid host name") from None
    labels = name.split(".")
    if not _IPV4_NUMBER.fullmatch(labels[-1]):
        return name
    address = _ipv4(labels)  # WHATWG: a host that ends in a number is an IPv4 address
    if address is None:
        raise ValueError("its host is not a valid IPv4 address")
    return address


def _forbidden(address: IP) -> Optional[str]:
    """The kind of a non-public address ("a loopback address"), or None for a public one."""
    v6 = isinstance(address, ipaddress.IPv6Address)
    for network, kind in _V6 if v6 else _V4:
        if address in network:
            return kind
    if not v6:
        return None
    embedded = next((address.packed[-4:] for net in _EMBEDDING if address in net), None)
    if address in _SIXTOFOUR:
        embedded = address.packed[2:6]
    if embedded is not None:
        inner = ipaddress.IPv4Address(embedded)
        kind = _forbidden(inner)
        return f"an address embedding {inner}, {kind}" if kind else None
    return None if address in _GLOBAL_UNICAST else "a reserved address"


def _split(authority: str) -> Tuple[str, Optional[int]]:
    """(host, port: -1 when absent, None when invalid); brackets stay on IPv6 hosts."""
    if authority.startswith("["):
        end = authority.find("]") + 1 or len(authority)
        host, rest = authority[:end], authority[end:]
    else:
        host, colon, port = authority.partition(":")
        rest = colon + port
    if rest in ("", ":"):
        return host, -1
    if not re.fullmatch(r":[0-9]+", rest) or int(rest[1:]) > 65535:
        return host, None
    return host, int(rest[1:])


def _domain(host: str) -> str:
    """The host as the WHATWG parser sees it: percent-decoded, mapped to ASCII (IDNA: full-width
    digits, ideographic full stops, circled letters…), lower case. ValueError if it is not a name."""
    name = unquote(host, errors="strict")
    if not name.isascii():
        name = name.encode("idna").decode("ascii")
    name = name.lower()
    if not _HOST_NAME.fullmatch(name):
        raise ValueError(host)
    return name.rstrip(".")


def _ipv4(labels) -> Optional[ipaddress.IPv4Address]:
    """The WHATWG IPv4 parser: 1 to 4 parts, each decimal, 0x-hex or 0-octal; the last fills the
    remaining bytes (127.1, 2130706433). None where the runtime would refuse the URL too."""
    if len(labels) > 4:
        return None
    numbers = []
    for label in labels:
        radix, digits = (16, label[2:]) if label[:2].lower() == "0x" else (8, label[1:]) if len(label) > 1 and \
            label[0] == "0" else (10, label)
        try:
            numbers.append(int(digits, radix) if digits else 0)
        except ValueError:
            return None
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    value = numbers[-1] + sum(n * 256 ** (3 - i) for i, n in enumerate(numbers[:-1]))
    return ipaddress.IPv4Address(value)


def _short(url: str) -> str:
    return url if len(url) <= 200 else url[:200] + "…"


def _refused(message: str) -> InvalidRequest:
    return InvalidRequest(message, code="invalid_image_url")
