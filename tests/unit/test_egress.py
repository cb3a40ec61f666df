"""The egress policy: host names and wildcards, every class of address, odd IPv4 forms, IPv6 embeddings, and
the guarded network backend (with an injected resolver, so nothing here touches the network)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Sequence
from typing import Any

import httpcore
import httpx
import pytest

from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy, EgressRefused, normalise_host_pattern, normalise_host_patterns
from orchestra.kit.egress_http import GuardedNetworkBackend, guarded_client, points_at_private_network

STRICT = EgressPolicy.for_environment("https://api.example.com/v1", [], False, "sut")
PRIVATE = EgressPolicy.for_environment("http://127.0.0.1:8080", ["localhost"], True, "local")


# -- hosts -------------------------------------------------------------------------------------------------


def test_the_base_url_host_is_allowed_and_nothing_else_by_default() -> None:
    STRICT.check_host("api.example.com")
    STRICT.check_host("API.Example.COM.")  # case and a final dot do not matter
    with pytest.raises(EgressRefused) as refused:
        STRICT.check_host("evil.com")
    assert refused.value.reason == (
        "host 'evil.com' is not allowed for environment 'sut' "
        "(allowed: api.example.com; add it to allowed_hosts)"
    )
    for other in ("example.com", "x.api.example.com", "api.example.com.evil.com", "api-example.com"):
        assert not STRICT.allows_host(other), other


def test_allowed_hosts_add_exact_names_and_ip_literals() -> None:
    policy = EgressPolicy.for_environment("http://sut.test", ["auth.test", "10.0.0.7", "[::1]"], True)
    assert policy.hosts == ("sut.test", "auth.test", "10.0.0.7", "::1")
    for host in ("sut.test", "auth.test", "10.0.0.7", "::1", "0:0:0:0:0:0:0:1"):
        assert policy.allows_host(host), host
    assert not policy.allows_host("auth.test.evil")
    assert not policy.allows_host("10.0.0.8")


def test_a_wildcard_matches_subdomains_at_any_depth_but_not_the_domain_itself() -> None:
    policy = EgressPolicy.for_environment("https://sut.test", ["*.example.com"], False)
    assert policy.allows_host("a.example.com")
    assert policy.allows_host("a.b.c.example.com")
    assert not policy.allows_host("example.com")
    assert not policy.allows_host("badexample.com")
    assert not policy.allows_host("example.com.evil.org")


def test_a_wildcard_never_matches_an_ip_literal() -> None:
    crafted = EgressPolicy(hosts=("*.0.1",))  # the API refuses such an entry; it must not match anyway
    assert not crafted.allows_host("127.0.0.1")


def test_stored_entries_that_are_not_valid_are_dropped_not_matched_loosely() -> None:
    policy = EgressPolicy.for_environment("https://sut.test", ["*", "https://x.test/path", "ok.test"], False)
    assert policy.hosts == ("sut.test", "ok.test")


def test_the_refusal_lists_a_long_allow_list_briefly() -> None:
    policy = EgressPolicy.for_environment("https://a.test", [f"h{i}.test" for i in range(8)], False)
    with pytest.raises(
        EgressRefused, match=r"allowed: a.test, h0.test, h1.test, h2.test, h3.test and 4 more"
    ):
        policy.check_host("nope.test")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("API.Example.com", "api.example.com"),
        ("example.com.", "example.com"),
        ("*.Example.com", "*.example.com"),
        ("sut_1", "sut_1"),
        ("localhost", "localhost"),
        ("192.0.2.10", "192.0.2.10"),
        ("[2001:DB8::1]", "2001:db8::1"),
        ("2001:db8:0:0::1", "2001:db8::1"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_host_patterns_are_normalised(given: str, stored: str) -> None:
    assert normalise_host_pattern(given) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("https://api.example.com", "without scheme, port or path"),
        ("api.example.com:8080", "without scheme, port or path"),
        ("api.example.com/v1", "without scheme, port or path"),
        ("user@api.example.com", "without scheme, port or path"),
        ("*", "a wildcard is allowed only as the whole first label"),
        ("a.*.example.com", "a wildcard is allowed only as the whole first label"),
        ("*example.com", "a wildcard is allowed only as the whole first label"),
        ("*.com", "a wildcard must name a domain of two labels or more"),
        ("*.*.example.com", "is not a host name"),
        ("bad host", "is not a host name"),
        ("-bad.example.com", "is not a host name"),
        ("bücher.example", "xn-- form"),
        ("a" * 64 + ".example.com", "is not a host name"),
        ("2130706433", "an IP address in an unusual form"),
        ("0x7f.1", "an IP address in an unusual form"),
        ("127.1", "an IP address in an unusual form"),
        ("", "non-empty"),
    ],
)
def test_host_patterns_that_are_not_hosts_are_refused_with_a_reason(given: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_host_pattern(given)


def test_host_pattern_lists_are_deduplicated_and_bounded() -> None:
    assert normalise_host_patterns(["a.test", "A.test", "b.test"]) == ["a.test", "b.test"]
    with pytest.raises(ValueError, match="at most 100"):
        normalise_host_patterns([f"h{i}.test" for i in range(101)])


# -- addresses ---------------------------------------------------------------------------------------------

NEVER = [
    ("169.254.169.254", "link-local/metadata"),
    ("169.254.170.2", "link-local/metadata"),
    ("169.254.1.1", "link-local"),
    ("fd00:ec2::254", "cloud metadata (AWS IPv6)"),
    ("100.100.100.200", "cloud metadata (Alibaba Cloud)"),
    ("168.63.129.16", "Azure WireServer"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "'this network'"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("240.0.0.1", "reserved"),
    ("192.0.0.170", "reserved"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.1", "documentation"),
    ("203.0.113.1", "documentation"),
    ("2001:db8::1", "documentation"),
    ("fe80::1", "link-local"),
    ("fe80::1%2", "link-local"),
    ("100::1", "discard-only"),
    ("2001::1", "Teredo"),
    ("::7f00:1", "IPv4-compatible"),
    ("64:ff9b:1::a00:1", "local-use NAT64"),
    ("4000::1", "reserved"),
    # IPv4 embedded in IPv6 is judged by the IPv4 address it reaches.
    ("::ffff:169.254.169.254", "link-local/metadata (IPv4-mapped 169.254.169.254)"),
    ("64:ff9b::a9fe:a9fe", "link-local/metadata (NAT64 169.254.169.254)"),
    ("2002:a9fe:a9fe::1", "link-local/metadata (6to4 169.254.169.254)"),
    ("::ffff:0.0.0.0", "unspecified (IPv4-mapped 0.0.0.0)"),
]
PRIVATE_ADDRESSES = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.5", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("198.18.0.1", "benchmarking"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fec0::1", "site-local"),
    ("::ffff:127.0.0.1", "loopback (IPv4-mapped 127.0.0.1)"),
    ("::ffff:10.0.0.5", "private (IPv4-mapped 10.0.0.5)"),
    ("64:ff9b::7f00:1", "loopback (NAT64 127.0.0.1)"),
    ("2002:c0a8:101::1", "private (6to4 192.168.1.1)"),
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(("address", "label"), NEVER)
def test_link_local_metadata_and_reserved_addresses_are_never_allowed(address: str, label: str) -> None:
    with pytest.raises(EgressRefused, match="is never allowed") as refused:
        PRIVATE.check_address(address)
    assert label in refused.value.reason
    with pytest.raises(EgressRefused, match="is never allowed"):
        STRICT.check_address(address)


def test_the_metadata_refusal_reads_clearly() -> None:
    with pytest.raises(EgressRefused) as refused:
        PRIVATE.check_address("169.254.169.254")
    assert refused.value.reason == "address 169.254.169.254 (link-local/metadata) is never allowed"


@pytest.mark.parametrize(("address", "label"), PRIVATE_ADDRESSES)
def test_loopback_and_private_addresses_need_allow_private_network(address: str, label: str) -> None:
    with pytest.raises(
        EgressRefused, match=r"does not allow private networks \(allow_private_network\)"
    ) as no:
        STRICT.check_address(address)
    assert label in no.value.reason
    PRIVATE.check_address(address)


def test_the_loopback_refusal_reads_clearly() -> None:
    with pytest.raises(EgressRefused) as refused:
        STRICT.check_address("127.0.0.1")
    assert refused.value.reason == (
        "address 127.0.0.1 is loopback; "
        "environment 'sut' does not allow private networks (allow_private_network)"
    )
    with pytest.raises(EgressRefused) as named:
        STRICT.check_address("10.0.0.5", "db.internal")
    assert "address 10.0.0.5 (of host 'db.internal') is private" in named.value.reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    STRICT.check_address(address)
    PRIVATE.check_address(address)


def test_what_is_not_an_address_is_refused() -> None:
    with pytest.raises(EgressRefused, match="is not an IP address"):
        STRICT.check_address("localhost")


@pytest.mark.parametrize(
    ("host", "private"),
    [
        ("localhost", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("[::1]", True),
        ("10.1.2.3", True),
        ("169.254.169.254", False),  # never allowed, so allowing private networks would not help
        ("example.com", False),
        ("8.8.8.8", False),
    ],
)
def test_private_literals(host: str, private: bool) -> None:
    assert egress.is_private_literal(host) is private


# -- the policy of the request in flight -------------------------------------------------------------------


def test_without_a_policy_everything_is_refused() -> None:
    with pytest.raises(EgressRefused, match="no egress policy"):
        egress.current_policy()


async def test_the_policy_is_task_local() -> None:
    seen: list[EgressPolicy] = []

    async def step(policy: EgressPolicy) -> None:
        with egress.applying(policy):
            await asyncio.sleep(0.01)
            seen.append(egress.current_policy())

    await asyncio.gather(step(STRICT), step(PRIVATE))
    assert sorted(policy.environment for policy in seen) == ["local", "sut"]
    with pytest.raises(EgressRefused):
        egress.current_policy()  # reset after use


# -- the guarded backend (resolution bound to the connection) ----------------------------------------------


class FakeResolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(-2, "Name or service not known")
        return self.answers[host]


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the real network: records where it was asked to connect, and connects nowhere."""

    def __init__(self) -> None:
        self.connected: list[str] = []

    async def connect_tcp(
        self, host: str, port: int, *args: object, **kwargs: object
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append(host)
        raise httpcore.ConnectError("not really connecting")


def backend(resolver: FakeResolver, *, allow_private: bool) -> tuple[GuardedNetworkBackend, RecordingBackend]:
    inner = RecordingBackend()
    return GuardedNetworkBackend(allow_private=allow_private, resolver=resolver, inner=inner), inner


async def test_a_name_resolving_to_a_private_address_is_refused_before_connecting() -> None:
    resolver = FakeResolver({"db.internal": ["10.0.0.5"]})
    guarded, inner = backend(resolver, allow_private=False)
    policy = EgressPolicy.for_environment("http://db.internal", [], False, "sut")
    with (
        egress.applying(policy),
        pytest.raises(EgressRefused, match=r"10\.0\.0\.5 \(of host 'db.internal'\)"),
    ):
        await guarded.connect_tcp("db.internal", 80)
    assert inner.connected == []


async def test_a_mixed_answer_is_refused_whole() -> None:
    """A public address next to the metadata address is a rebinding attempt, not a choice."""
    resolver = FakeResolver({"rebind.test": ["93.184.215.14", "169.254.169.254"]})
    guarded, inner = backend(resolver, allow_private=True)
    with egress.applying(PRIVATE), pytest.raises(EgressRefused, match=r"169\.254\.169\.254"):
        await guarded.connect_tcp("rebind.test", 80)
    assert inner.connected == []


async def test_it_connects_to_the_checked_addresses_in_order() -> None:
    resolver = FakeResolver({"localhost": ["::1", "127.0.0.1"]})
    guarded, inner = backend(resolver, allow_private=True)
    with egress.applying(PRIVATE), pytest.raises(httpcore.ConnectError):
        await guarded.connect_tcp("localhost", 8080)
    assert inner.connected == ["::1", "127.0.0.1"]  # the addresses themselves: never the name again
    assert resolver.asked == ["localhost"]


async def test_the_strict_pool_refuses_private_addresses_whatever_the_policy_says() -> None:
    guarded, inner = backend(FakeResolver({"localhost": ["127.0.0.1"]}), allow_private=False)
    with egress.applying(PRIVATE), pytest.raises(EgressRefused, match="loopback"):
        await guarded.connect_tcp("localhost", 8080)
    assert inner.connected == []


async def test_the_backend_without_a_policy_refuses() -> None:
    guarded, inner = backend(FakeResolver({"a.test": ["8.8.8.8"]}), allow_private=True)
    with pytest.raises(EgressRefused, match="no egress policy"):
        await guarded.connect_tcp("a.test", 80)
    assert inner.connected == []


async def test_a_name_that_does_not_resolve_is_a_connect_error() -> None:
    guarded, _ = backend(FakeResolver({}), allow_private=False)
    with (
        egress.applying(STRICT),
        pytest.raises(httpcore.ConnectError, match=r"cannot resolve 'api\.example\.com'"),
    ):
        await guarded.connect_tcp("api.example.com", 443)


# -- the client ----------------------------------------------------------------------------------------------


async def test_the_client_checks_the_host_and_the_resolved_address() -> None:
    """Through httpx and httpcore for real: proves the guarded backend is the one httpx's pool uses."""
    resolver = FakeResolver({"api.example.com": ["10.0.0.5"], "169.254.169.254": ["169.254.169.254"]})
    metadata = EgressPolicy.for_environment("http://169.254.169.254", [], True, "cloud")
    async with guarded_client(resolver=resolver) as client:
        with pytest.raises(EgressRefused, match="no egress policy"):
            await client.get("https://api.example.com/")
        with egress.applying(STRICT):
            with pytest.raises(EgressRefused, match=r"host 'evil\.com' is not allowed"):
                await client.get("https://evil.com/")
            with pytest.raises(
                EgressRefused, match=r"10\.0\.0\.5 \(of host 'api\.example\.com'\) is private"
            ):
                await client.get("https://api.example.com/")
            with pytest.raises(EgressRefused, match=r"host '169\.254\.169\.254' is not allowed"):
                await client.get("http://169.254.169.254/latest/meta-data/")
            with pytest.raises(httpx.UnsupportedProtocol):
                await client.get("ftp://api.example.com/")
        with egress.applying(metadata), pytest.raises(EgressRefused, match="never allowed"):
            await client.get("http://169.254.169.254/latest/meta-data/")
    assert resolver.asked == ["api.example.com", "169.254.169.254"]


async def test_plain_http_loads_no_ca_certificates_and_https_loads_them_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CA certificates (tens of milliseconds to load) are loaded at the first HTTPS request, once for
    every pool; a process that sends only plain HTTP never loads them."""
    made: list[ssl.SSLContext] = []
    create = httpx.create_ssl_context

    def recording(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(create(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(httpx, "create_ssl_context", recording)
    resolver = FakeResolver({"localhost": ["127.0.0.1"], "api.example.com": ["10.0.0.5"]})
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again: nothing listens there
    async with guarded_client(resolver=resolver) as client:
        with egress.applying(PRIVATE), pytest.raises(httpx.ConnectError):
            await client.get(f"http://localhost:{port}/")
        assert made == []
        with egress.applying(PRIVATE), pytest.raises(httpx.ConnectError):
            await client.get(f"https://localhost:{port}/")
        with egress.applying(STRICT), pytest.raises(EgressRefused, match="private"):
            await client.get("https://api.example.com/")  # the strict pool: the same context
    assert len(made) == 1
    assert made[0].verify_mode == ssl.CERT_REQUIRED


async def test_points_at_private_network() -> None:
    resolver = FakeResolver(
        {"sut": ["172.18.0.3"], "example.com": ["93.184.215.14"], "mixed.test": ["10.0.0.1", "8.8.8.8"]}
    )
    assert await points_at_private_network("http://127.0.0.1:8080", resolver)
    assert await points_at_private_network("http://localhost:3000/api", resolver)
    assert await points_at_private_network("http://sut:8080", resolver)  # e.g. a compose service
    assert not await points_at_private_network("https://example.com", resolver)
    assert not await points_at_private_network("https://mixed.test", resolver)
    assert not await points_at_private_network("https://unknown.test", resolver)
    assert not await points_at_private_network("http://169.254.169.254", resolver)
