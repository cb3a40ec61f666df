"""Egress policy (the SSRF guard): where the executor may send requests on behalf of a test definition.

Test definitions are written by users, and the executor runs them from inside the platform's network, so a
definition must not be able to reach what the platform can reach but the user should not: the cloud metadata
service (credentials), link-local services, or (unless the environment says so) loopback and private
addresses. Two independent checks, both of which must pass:

- the **host** (the name in the URL) must be the host of the environment's base URL or one of its
  ``allowed_hosts`` — exact names, IP literals, or ``*.example.com`` (any subdomain at any depth, e.g.
  ``a.example.com`` and ``a.b.example.com``, but not ``example.com`` itself); ports are not restricted;
  see :meth:`EgressPolicy.check_host`;
- every **address** the host resolves to must be public, or private with ``allow_private_network``;
  link-local, metadata, multicast, unspecified, broadcast, documentation and reserved addresses are never
  allowed; see :meth:`EgressPolicy.check_address`. The resolver's answer is what counts, so odd IPv4 forms
  (``2130706433``, ``0x7f.1``) and IPv6 embeddings of IPv4 (``::ffff:127.0.0.1``, NAT64, 6to4) are judged
  by the address they really reach. The address check is bound to the connection (``kit/egress_http.py``).

The policy of the request in flight travels in a :class:`contextvars.ContextVar` (:func:`applying`): one
HTTP client, and its connection pool, serves every run of an executor concurrently, and the connection code
deep inside httpcore has no parameter through which a per-request policy could reach it. A context variable
is task-local (every step runs in its own asyncio task, and tasks copy the context they start in), so
concurrent runs never see each other's policy; code that finds no policy refuses (fail closed).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import re
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_ALLOWED_HOSTS = 100
MAX_HOST_LENGTH = 253
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# A last label that URL parsers read as a number makes the whole name an IPv4 address in some odd form.
_NUMERIC_LABEL = re.compile(r"(?:[0-9]+|0x[0-9a-f]*)")
_LOCALHOST_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class EgressRefused(Exception):
    """The egress policy refuses this host or address; nothing was sent to it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- addresses ---------------------------------------------------------------------------------------------

Verdict = Literal["never", "private"]
_Kind = Literal["never", "private", "public"]
_Rule = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, _Kind, str]


def _rules(*rules: tuple[str, _Kind, str]) -> tuple[_Rule, ...]:
    return tuple((ipaddress.ip_network(network), verdict, label) for network, verdict, label in rules)


# Cloud metadata and platform services that sit on addresses the general rules would let through.
_METADATA: dict[IPAddress, str] = {
    ipaddress.ip_address("169.254.169.254"): "link-local/metadata",  # AWS, GCP, Azure, OCI, DigitalOcean …
    ipaddress.ip_address("169.254.170.2"): "link-local/metadata",  # AWS ECS task metadata
    ipaddress.ip_address("fd00:ec2::254"): "cloud metadata (AWS IPv6)",
    ipaddress.ip_address("100.100.100.200"): "cloud metadata (Alibaba Cloud)",
    ipaddress.ip_address("168.63.129.16"): "cloud platform service (Azure WireServer)",
}
# First match wins, so specific entries come before the ranges that contain them.
_IPV4 = _rules(
    ("0.0.0.0/32", "never", "unspecified"),
    ("0.0.0.0/8", "never", "'this network'"),
    ("169.254.0.0/16", "never", "link-local"),
    ("224.0.0.0/4", "never", "multicast"),
    ("255.255.255.255/32", "never", "broadcast"),
    ("240.0.0.0/4", "never", "reserved"),
    ("192.0.0.0/24", "never", "reserved (IETF protocol assignments)"),
    ("192.0.2.0/24", "never", "documentation"),
    ("198.51.100.0/24", "never", "documentation"),
    ("203.0.113.0/24", "never", "documentation"),
    ("192.88.99.0/24", "never", "reserved (6to4 relay anycast)"),
    ("127.0.0.0/8", "private", "loopback"),
    ("10.0.0.0/8", "private", "private"),
    ("172.16.0.0/12", "private", "private"),
    ("192.168.0.0/16", "private", "private"),
    ("100.64.0.0/10", "private", "shared address space (carrier-grade NAT)"),
    ("198.18.0.0/15", "private", "private (benchmarking)"),
)
_IPV6 = _rules(
    ("::/128", "never", "unspecified"),
    ("::1/128", "private", "loopback"),
    ("64:ff9b:1::/48", "never", "local-use NAT64 (the IPv4 address it reaches is unknown)"),
    ("::/8", "never", "reserved (IPv4-compatible or translated)"),
    ("100::/64", "never", "discard-only"),
    ("2001::/32", "never", "Teredo tunnel"),
    ("2001:db8::/32", "never", "documentation"),
    ("3fff::/20", "never", "documentation"),
    ("fe80::/10", "never", "link-local"),
    ("fec0::/10", "private", "private (site-local)"),
    ("fc00::/7", "private", "private (unique local)"),
    ("ff00::/8", "never", "multicast"),
    ("2000::/3", "public", "global unicast"),  # the one public range; outside it all is unallocated
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 address stands for, where the IPv6 packet really reaches that IPv4
    address (mapped sockets, NAT64 translation, 6to4 relays)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "IPv4-mapped"
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
    if address.sixtofour is not None:
        return address.sixtofour, "6to4"
    return None


def classify(address: IPAddress) -> tuple[Verdict, str] | None:
    """None for a public address; else whether it is never allowed or private, and what it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        address = ipaddress.IPv6Address(address.compressed.split("%", 1)[0])
    if address in _METADATA:
        return "never", _METADATA[address]
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner, how = embedded
            verdict = classify(inner)
            if verdict is None:
                return None
            return verdict[0], f"{verdict[1]} ({how} {inner})"
        # Outside 2000::/3 and every special range, IPv6 is unallocated.
        return _match(address, _IPV6, otherwise=("never", "reserved"))
    return _match(address, _IPV4, otherwise=None)


def _match(
    address: IPAddress, rules: tuple[_Rule, ...], otherwise: tuple[Verdict, str] | None
) -> tuple[Verdict, str] | None:
    for network, kind, label in rules:
        if address in network:
            return None if kind == "public" else (kind, label)
    return otherwise


def _display(address: IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"  # as written; Python 3.11 would show ::ffff:7f00:1
    return str(address)


def parse_address(value: str | IPAddress) -> IPAddress:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    return ipaddress.ip_address(value.strip("[]"))


# -- host names --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)  # checked for every request; names repeat
def canonical_host(host: str) -> str:
    """Lower case, without IPv6 brackets or a final dot; IP literals in their canonical form."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host


@functools.lru_cache(maxsize=4096)
def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _check_hostname(name: str, shown: str) -> None:
    if len(name) > MAX_HOST_LENGTH or not _HOSTNAME.fullmatch(name):
        raise ValueError(
            f"{shown!r} is not a host name: write a name such as api.example.com, a wildcard such as "
            "*.example.com or an IP address, without scheme, port or path (international names in their "
            "xn-- form)"
        )
    if _NUMERIC_LABEL.fullmatch(name.rsplit(".", 1)[-1]):
        raise ValueError(f"{shown!r} looks like an IP address in an unusual form; write it as 192.0.2.10")


def normalise_host_pattern(value: str) -> str:
    """An entry of ``allowed_hosts`` in canonical form: a host name, an IP literal or ``*.`` + a host name
    of at least two labels. Raises ValueError with a message for the user."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a host must be a non-empty string")
    shown = value[:300]
    if any(ch in value for ch in "/:@?#") and not _is_ip_literal(value.strip().strip("[]")):
        raise ValueError(
            f"{shown!r} must be a host name only, without scheme, port or path (e.g. api.example.com)"
        )
    host = canonical_host(value)
    if _is_ip_literal(host):
        return host
    if host.startswith("*."):
        rest = host[2:]
        _check_hostname(rest, shown)
        if "." not in rest:
            raise ValueError(
                f"{shown!r}: a wildcard must name a domain of two labels or more, e.g. *.example.com"
            )
        return host
    if "*" in host:
        raise ValueError(
            f"{shown!r}: a wildcard is allowed only as the whole first label, e.g. *.example.com"
        )
    _check_hostname(host, shown)
    return host


def normalise_host_patterns(values: Iterable[str]) -> list[str]:
    """Every entry normalised, duplicates removed (first kept), at most MAX_ALLOWED_HOSTS."""
    patterns = list(dict.fromkeys(normalise_host_pattern(value) for value in values))
    if len(patterns) > MAX_ALLOWED_HOSTS:
        raise ValueError(f"at most {MAX_ALLOWED_HOSTS} allowed hosts")
    return patterns


def is_private_literal(host: str) -> bool:
    """The host names loopback or a private network by itself: ``localhost`` (and ``*.localhost``) or a
    loopback / private IP literal. No name resolution."""
    host = canonical_host(host)
    if host in _LOCALHOST_NAMES or host.endswith(".localhost"):
        return True
    try:
        verdict = classify(ipaddress.ip_address(host))
    except ValueError:
        return False
    return verdict is not None and verdict[0] == "private"


# -- the policy --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """``hosts``: the base URL's host first, then ``allowed_hosts`` (canonical, wildcards as ``*.x.y``)."""

    hosts: tuple[str, ...]
    allow_private: bool = False
    environment: str = ""

    @classmethod
    def for_environment(
        cls, base_url: str, allowed_hosts: Iterable[str], allow_private: bool, environment: str = ""
    ) -> EgressPolicy:
        """Stored entries are normalised again (cheap), so an entry written around the API cannot widen
        the policy; an entry that is not valid is dropped, never matched loosely."""
        hosts: list[str] = []
        try:
            base_host = urlsplit(base_url).hostname
        except ValueError:
            base_host = None
        if base_host:
            hosts.append(canonical_host(base_host))
        for entry in allowed_hosts:
            try:
                hosts.append(normalise_host_pattern(entry))
            except ValueError:
                continue
        return cls(tuple(dict.fromkeys(hosts)), bool(allow_private), environment)

    def allows_host(self, host: str) -> bool:
        host = canonical_host(host)
        literal = _is_ip_literal(host)
        for pattern in self.hosts:
            if pattern == host:
                return True
            if not literal and pattern.startswith("*.") and host.endswith(pattern[1:]):
                return True
        return False

    def check_host(self, host: str) -> None:
        if self.allows_host(host):
            return
        more = len(self.hosts) - 5
        listed = ", ".join(self.hosts[:5]) + (f" and {more} more" if more > 0 else "")
        raise EgressRefused(
            f"host '{canonical_host(host)}' is not allowed for {self._name()} "
            f"(allowed: {listed or 'none'}; add it to allowed_hosts)"
        )

    def check_address(self, address: str | IPAddress, host: str | None = None) -> None:
        """Raises EgressRefused unless the address may be connected to under this policy."""
        try:
            parsed = parse_address(address)
        except ValueError:
            raise EgressRefused(f"{address!r} is not an IP address") from None
        verdict = classify(parsed)
        if verdict is None:
            return
        kind, label = verdict
        shown = f"address {_display(parsed)}"
        if host and canonical_host(host) != parsed.compressed:
            shown += f" (of host '{host}')"
        if kind == "never":
            raise EgressRefused(f"{shown} ({label}) is never allowed")
        if not self.allow_private:
            raise EgressRefused(
                f"{shown} is {label}; {self._name()} does not allow private networks (allow_private_network)"
            )

    def _name(self) -> str:
        return f"environment '{self.environment}'" if self.environment else "the environment"


class EgressTarget(Protocol):
    """An environment as its egress policy reads it (the stored Environment is one)."""

    @property
    def name(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def allowed_hosts(self) -> Sequence[str]: ...
    @property
    def allow_private_network(self) -> bool: ...


def policy_of(environment: EgressTarget) -> EgressPolicy:
    """Where requests made for this environment may go (base URL host, allowed_hosts, private network)."""
    return EgressPolicy.for_environment(
        environment.base_url, environment.allowed_hosts, environment.allow_private_network, environment.name
    )


_current: ContextVar[EgressPolicy | None] = ContextVar("orchestra_egress_policy", default=None)


def current_policy() -> EgressPolicy:
    """The policy of the request in flight; refuses when none is set (fail closed)."""
    policy = _current.get()
    if policy is None:
        raise EgressRefused("no egress policy is set for this request, so it is refused")
    return policy


@contextlib.contextmanager
def applying(policy: EgressPolicy) -> Iterator[EgressPolicy]:
    """Make ``policy`` the one of every request sent in this context (this task and tasks it starts)."""
    token = _current.set(policy)
    try:
        yield policy
    finally:
        _current.reset(token)
