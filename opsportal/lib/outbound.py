"""Where the server may send a request: the one guard for every URL Opsportal fetches.

Staff type URLs (an integration's Alertmanager URL today; runbook HTTP steps and chat/paging base
URLs later) and ordinary users make the server request them, so a URL must never turn the server
into a way to read internal services or the cloud metadata endpoint (docs/security.md, "Outbound
requests"). Two halves:

* :func:`check_url` needs no network: http/https only, a host, no credentials in the URL, no
  control characters, and no address literal that is always refused. Forms call it at save;
  :func:`opsportal.lib.http.request` calls it again on every request and every redirect hop.
* :func:`vetted_addresses` resolves the host once (every address ``getaddrinfo`` gives) and checks
  every address against the policy. The HTTP connection opens its socket to those addresses and
  no others (:class:`GuardedAdapter`), so a DNS answer that changes between the check and the
  connection (DNS rebinding) changes nothing. TLS still verifies the certificate against the
  host name, because only the socket's destination is pinned.

The policy, decided per address (IPv4-mapped, NAT64 and 6to4 IPv6 forms are judged by the IPv4
address inside them):

1. link-local (where cloud metadata services answer: 169.254.0.0/16, fe80::/10), the metadata
   addresses fd00:ec2::254 and 100.100.100.200, "this host" (0.0.0.0/8, ::), multicast and
   broadcast are always refused; no setting allows them;
2. else the most specific network of ``OUTBOUND_ALLOW_NETWORKS`` / ``OUTBOUND_DENY_NETWORKS``
   containing the address decides (a tie is a refusal);
3. else loopback (127.0.0.0/8, ::1) is refused and everything else is permitted: Opsportal talks
   to services on the operator's own network (e.g. ``http://alertmanager:9093``).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = ("http", "https")

_LINK_LOCAL = "a link-local address, where cloud metadata services answer"
ALWAYS_REFUSED: tuple[tuple[IPNetwork, str], ...] = (
    (ipaddress.ip_network("169.254.0.0/16"), _LINK_LOCAL),
    (ipaddress.ip_network("fe80::/10"), _LINK_LOCAL),
    (ipaddress.ip_network("fd00:ec2::254/128"), "the AWS metadata service"),
    (ipaddress.ip_network("100.100.100.200/32"), "the Alibaba Cloud metadata service"),
    (ipaddress.ip_network("0.0.0.0/8"), "“this host”, which reaches the server itself"),
    (ipaddress.ip_network("::/128"), "the unspecified address, which reaches the server itself"),
    (ipaddress.ip_network("224.0.0.0/4"), "a multicast address"),
    (ipaddress.ip_network("ff00::/8"), "a multicast address"),
    (ipaddress.ip_network("255.255.255.255/32"), "the broadcast address"),
)
LOOPBACK: tuple[IPNetwork, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(Exception):
    """The outbound policy refused a URL or an address; ``message`` names the value and the rule.

    Deliberately not a ``requests``/``OSError`` exception: it must pass through requests and
    urllib3 untouched (they retry or rewrap those) so the caller can say "refused by policy"
    rather than "could not connect".
    """

    def __init__(self, message: str, *, rule: str):
        super().__init__(message)
        self.message = message
        self.rule = rule  # always_refused, denied, loopback, url
        self.url = ""  # the request's URL (a redirect hop's, when that is what was refused)


# --- configuration -------------------------------------------------------------------------


def parse_networks(values: Iterable[str], *, setting: str) -> tuple[IPNetwork, ...]:
    """CIDR strings to networks; a typo fails loudly (ImproperlyConfigured names it)."""
    networks: list[IPNetwork] = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=True))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{setting}: “{text}” is not a network in CIDR form such as 10.0.0.0/8 or "
                f"127.0.0.1/32 ({exc})."
            ) from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _networks(allow: tuple[str, ...], deny: tuple[str, ...]) -> tuple[tuple[IPNetwork, ...], tuple[IPNetwork, ...]]:
    return (
        parse_networks(allow, setting="OUTBOUND_ALLOW_NETWORKS"),
        parse_networks(deny, setting="OUTBOUND_DENY_NETWORKS"),
    )


def configured_networks() -> tuple[tuple[IPNetwork, ...], tuple[IPNetwork, ...]]:
    """(allowed, denied) from settings, read on every check so a changed setting applies at once."""
    allow = tuple(getattr(settings, "OUTBOUND_ALLOW_NETWORKS", ()) or ())
    deny = tuple(getattr(settings, "OUTBOUND_DENY_NETWORKS", ()) or ())
    return _networks(allow, deny)


# --- addresses -----------------------------------------------------------------------------


def unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 form carries (::ffff:a.b.c.d, 64:ff9b::a.b.c.d, 2002:AABB:CCDD::),
    so ``::ffff:169.254.169.254`` is judged as 169.254.169.254."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def _most_specific(address: IPAddress, networks: Sequence[IPNetwork]) -> IPNetwork | None:
    matching = [n for n in networks if n.version == address.version and address in n]
    return max(matching, key=lambda n: n.prefixlen, default=None)


def check_address(address: IPAddress | str, *, host: str = "") -> None:
    """Raise OutboundRefused when the policy (module docstring) refuses ``address``."""
    original = ipaddress.ip_address(address) if isinstance(address, str) else address
    ip = unwrap(original)
    shown = str(original) if ip == original else f"{original} (that is {ip})"
    where = f"{host} resolves to {shown}" if host and host != str(original) else shown
    for network, why in ALWAYS_REFUSED:
        if ip.version == network.version and ip in network:
            raise OutboundRefused(
                f"{where}, {why}; Opsportal never sends requests there.", rule="always_refused"
            )
    allowed, denied = configured_networks()
    allow = _most_specific(ip, allowed)
    deny = _most_specific(ip, denied)
    if deny is not None and (allow is None or deny.prefixlen >= allow.prefixlen):
        raise OutboundRefused(
            f"{where}, inside {deny} of OUTBOUND_DENY_NETWORKS.", rule="denied"
        )
    if allow is not None:
        return
    if any(ip.version == n.version and ip in n for n in LOOPBACK):
        raise OutboundRefused(
            f"{where}, a loopback address (this server itself); refused unless "
            "OUTBOUND_ALLOW_NETWORKS lists it, e.g. 127.0.0.1/32.",
            rule="loopback",
        )


def vetted_addresses(host: str, port: int) -> list[tuple[socket.AddressFamily, str]]:
    """Resolve ``host`` once and return every address, after checking every one.

    One refused address refuses the whole name: a name that answers both a public and an internal
    address is what DNS rebinding looks like. Raises OutboundRefused, or socket.gaierror when the
    name does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    result: list[tuple[socket.AddressFamily, str]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        text = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone (fe80::1%eth0)
        check_address(ipaddress.ip_address(text), host=host)
        if (family, text) not in result:
            result.append((family, text))
    if not result:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no IPv4 or IPv6 address")
    return result


# --- URLs ----------------------------------------------------------------------------------


def check_url(url: str) -> tuple[str, str, int]:
    """The static half of the guard, no network: return (scheme, host, port) or raise OutboundRefused.

    Refuses other schemes, a missing host, credentials in the URL (``http://a@b`` reads as host
    "a" to a person and goes to "b"), whitespace, control characters and backslashes (parsers
    disagree about them), and a host that is an always-refused address literal.
    """
    if any(ch <= " " or ch in "\\\x7f" for ch in url):
        raise OutboundRefused(
            "The URL contains a space, a backslash or a control character.", rule="url"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundRefused(f"“{url}” is not a valid URL.", rule="url") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise OutboundRefused(
            f"Only http and https URLs are fetched, not “{parts.scheme or url}”.", rule="url"
        )
    if "@" in parts.netloc:
        raise OutboundRefused(
            "The URL must not carry a user name or password (the part before “@”).", rule="url"
        )
    host = parts.hostname or ""
    if not host:
        raise OutboundRefused(f"“{url}” names no host.", rule="url")
    if port == 0:
        raise OutboundRefused("Port 0 is not a port to connect to.", rule="url")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        for network, why in ALWAYS_REFUSED:
            inner = unwrap(literal)
            if inner.version == network.version and inner in network:
                raise OutboundRefused(
                    f"{host} is {why}; Opsportal never sends requests there.", rule="always_refused"
                )
    return scheme, host, port or (443 if scheme == "https" else 80)


# --- the pinned connection -----------------------------------------------------------------


class _PinnedConnectMixin:
    """Open the socket to an address :func:`vetted_addresses` approved, never to a name.

    Replaces urllib3's ``HTTPConnection._new_conn`` (which resolves the host itself), keeping its
    error types so requests reports failures as it always does. ``host`` stays the name, so the
    Host header, SNI and certificate checks are unchanged.
    """

    _dns_host: str
    port: int
    timeout: float | None
    source_address: tuple[str, int] | None
    socket_options: Any
    host: str

    def _new_conn(self) -> socket.socket:
        try:
            addresses = vetted_addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]  # self is an HTTPConnection
        error: OSError | None = None
        for _family, address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                error = exc
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        raise NewConnectionError(
            self,  # type: ignore[arg-type]  # self is an HTTPConnection
            f"Failed to establish a new connection: {error}",
        ) from error


class GuardedHTTPConnection(_PinnedConnectMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_PinnedConnectMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose every request, redirect hops included, passes both halves of the
    guard: :func:`check_url` on the URL, and pinned vetted addresses for the socket.

    Proxies are refused: a proxy resolves the target itself, so the address check could not
    reach it (sessions using this adapter set ``trust_env = False``).
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # An instance attribute: the module-level default stays untouched for everyone else.
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise OutboundRefused(
            "Outbound requests do not go through a proxy: the proxy would choose the address.",
            rule="url",
        )

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        try:
            check_url(request.url or "")
            return super().send(request, *args, **kwargs)
        except OutboundRefused as exc:
            exc.url = exc.url or request.url or ""
            raise
