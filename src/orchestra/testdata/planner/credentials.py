"""Which credentials each planned request sends: the security schemes its operation accepts (any of the
description's when it leaves its authentication unsaid), how well the environment satisfies each (a secret
or variable named for it, one under another token name, the log-in's token), the scheme the default headers
use (the one that serves the most, the test's own operations first), and the calls and cleanups that send
their own because the defaults do not serve them. How a credential is written into a request is
``security.py``'s."""

from __future__ import annotations

import re
from collections.abc import Collection

from orchestra.openapi.operations import Operation, SecurityScheme
from orchestra.testdata.planner.login_call import LoginCall
from orchestra.testdata.planner.plan_state import template
from orchestra.testdata.planner.security import (
    Sent,
    basic_usable,
    in_query,
    is_basic,
    send_basic,
    send_token,
    takes_token,
)

TOKEN_NAMES = ("token", "api_token", "access_token", "bearer_token", "api_key", "apikey", "auth_token")
_BEARER_NAMES = tuple(name for name in TOKEN_NAMES if name not in ("api_key", "apikey"))  # a token, not a key


class Credentials(LoginCall):
    """Chooses the credentials of every planned request, once all are planned (``authenticate``)."""

    def authenticate(self) -> None:
        """Credentials per operation: each secured operation accepts any one of its security schemes. The
        default headers use the scheme that serves the most of them (the test's own operations first: they
        only get the defaults); a planned call or cleanup the defaults do not serve (or whose scheme goes in
        the query) gets its own headers or query from another of its schemes the environment can satisfy."""
        uses = self.secured_uses()
        schemes = sorted({name for _, _, accepted in uses for name in accepted})
        usable = {name: rank for name in schemes if (rank := self.credential_rank(name)) is not None}
        for name in schemes:
            if name not in usable:
                self.note(self.missing_credential(self.catalogue.security_schemes[name]))
        if not usable:
            return

        def preference(name: str) -> tuple[int, int, int, str]:
            served = [where for _, where, accepted in uses if name in accepted]
            return (-served.count("value"), -len(served), usable[name], name)

        in_headers = [name for name in usable if not in_query(self.catalogue.security_schemes[name])]
        default = min(in_headers, key=preference) if in_headers else None
        if default is not None:
            self.headers.update(self.scheme_sent(default).headers)
        for binding, where, accepted in uses:
            options = sorted((name for name in accepted if name in usable), key=lambda n: (usable[n], n))
            if not options or any(self.served_by_defaults(name) for name in options):
                continue
            sent = self.scheme_sent(options[0])
            if where == "value":
                operation = self.value_operations[binding]
                needs = f"{operation} needs {options[0]}" + (f", not {default}" if default else "")
                self.note(f"data.{binding}: {needs}: send {sent.described()}")
                continue
            found = self.bindings[binding]
            request = found.call if where == "call" else found.cleanup
            assert request is not None
            update = {
                "headers": {**request.headers, **sent.headers},
                "query": {**request.query, **sent.query},
            }
            self.bindings[binding] = found.model_copy(update={where: request.model_copy(update=update)})
            names = ", ".join([*sent.headers, *sent.query])
            self.note(f"{binding}: its {where} sends its own {names} for {options[0]}")

    def secured_uses(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(binding, ``call``, ``cleanup`` or ``value``, the known schemes its operation accepts) of every
        planned request and of every operation whose inputs a value binding holds, when secured."""
        uses: list[tuple[str, str, tuple[str, ...]]] = []
        for name, binding in self.bindings.items():
            requests = {"call": binding.call, "cleanup": binding.cleanup}
            found = {where: request.operation for where, request in requests.items() if request is not None}
            if name in self.value_operations:
                found["value"] = self.value_operations[name]
            for where, operation_id in found.items():
                operation = self.catalogue.get(operation_id)
                security = self.security_of(operation) if operation is not None else ()
                accepted = tuple(scheme for scheme in security if scheme in self.catalogue.security_schemes)
                if accepted:
                    uses.append((name, where, accepted))
        return uses

    def security_of(self, operation: Operation) -> tuple[str, ...]:
        """The schemes an operation accepts; for one that names none, in a description that defines
        schemes but applies them to fewer than half of its operations (its authentication left unsaid,
        not off, as a CMS that serves only signed-in users describes itself), any of them. The log-in
        itself never gets credentials."""
        if operation.security or self.is_login(operation) or not self.catalogue.security_schemes:
            return operation.security
        operations = self.catalogue.operations.values()
        if 2 * sum(1 for other in operations if other.security) >= len(operations):
            return ()
        return tuple(self.catalogue.security_schemes)

    def credential_rank(self, name: str) -> int | None:
        """How well the environment satisfies a scheme (lower is better); None: not at all."""
        found = self.credential(name)
        return None if found is None else found[0]

    def credential(self, name: str) -> tuple[int, str] | None:
        """(rank, what satisfies a scheme: ``secrets.x`` or ``env.x``, ``login`` or ``basic``): 0 a
        credential named for it (``api_key`` for an API key, ``token`` for a bearer token; ``username`` and
        ``password`` secrets for HTTP basic), 1 one under another token name, 2 the token of the API's
        log-in, 3 for a bearer token the credential named for an API key scheme of the API (rather not: it
        is that scheme's); None: the environment cannot."""
        scheme = self.catalogue.security_schemes[name]
        if is_basic(scheme):
            return (0, "basic") if basic_usable(self.secrets) else None
        if not takes_token(scheme):
            return None
        if scheme.type == "apiKey":
            own = self.credential_name(_key_names(scheme))
            generic = self.credential_name()
            if own or generic:
                return (0, own) if own else (1, str(generic))
            return (2, "login") if self.login() is not None else None
        own = self.credential_name(_BEARER_NAMES)
        if own is not None:
            return 0, own
        schemes = self.catalogue.security_schemes.values()
        keys = {key for other in schemes if other.type == "apiKey" for key in _key_names(other)}
        generic = self.credential_name([token for token in TOKEN_NAMES if token not in keys])
        if generic is not None:
            return 1, generic
        if self.login() is not None:
            return 2, "login"
        claimed = self.credential_name()
        return (3, claimed) if claimed is not None else None

    def scheme_sent(self, name: str) -> Sent:
        """What a request carries for a scheme ``credential_rank`` found usable (its log-in planned once)."""
        if name not in self.sent_cache:
            found = self.credential(name)
            assert found is not None, "credential_rank checked it is usable"
            self.sent_cache[name] = self.sent_for(name, found[1], plan_login=True)
        return self.sent_cache[name]

    def sent_for(self, name: str, source: str, *, plan_login: bool) -> Sent:
        scheme = self.catalogue.security_schemes[name]
        if source == "basic":
            if plan_login:
                self.note(f"{name}: HTTP basic from the secrets username and password")
            return send_basic()
        if source == "login":
            login = self.login()
            assert login is not None, "credential_rank checked there is one"
            token = self.login_token(name) if plan_login else f"data.{self.token_binding}.{login.member}"
        else:
            token = source
        sent, how = send_token(scheme, template(token), self.environment, from_login=source == "login")
        if plan_login and source != "login":
            what = "bearer token" if scheme.type != "apiKey" else f"the {scheme.location} {scheme.parameter}"
            self.note(f"{name}: {what} from {source}" + (f", {how}" if scheme.type == "apiKey" else ""))
        elif plan_login and scheme.type == "apiKey":
            self.note(f"{name}: the token goes in the {scheme.location} {scheme.parameter}, {how}")
        return sent

    def served_by_defaults(self, name: str) -> bool:
        """Whether the default headers already send what a usable scheme needs (planning nothing)."""
        if in_query(self.catalogue.security_schemes[name]):
            return False
        sent = self.sent_cache.get(name)
        if sent is None:
            found = self.credential(name)
            if found is None or (found[1] == "login" and self.token_binding is None):
                return False
            sent = self.sent_for(name, found[1], plan_login=False)
        return bool(sent.headers) and sent.headers.items() <= self.headers.items()

    def missing_credential(self, scheme: SecurityScheme) -> str:
        login = self.login_problem()
        if scheme.type == "apiKey":
            return (
                f"{scheme.name}: put an API key in a secret named api_key (sent in the {scheme.location})"
                + (f"; or log in: {login}" if login else "")
            )
        if is_basic(scheme):
            return f"{scheme.name}: HTTP basic needs the secrets username and password"
        if not takes_token(scheme):
            kind = scheme.scheme or scheme.type
            return f"{scheme.name}: HTTP {kind} auth is not planned; set a default header"
        return f"{scheme.name}: the operations need a token; add a secret named token" + (
            f", or log in: {login}" if login else ""
        )

    def credential_name(self, names: Collection[str] = TOKEN_NAMES) -> str | None:
        """``secrets.<name>`` or ``env.<name>`` of the first of ``names`` the environment has (secrets
        first)."""
        for name in names:
            if name in self.secrets:
                return f"secrets.{name}"
        for name in names:
            if name in self.variables:
                return f"env.{name}"
        return None


def _key_names(scheme: SecurityScheme) -> list[str]:
    """Names of a credential meant for an API key scheme: its parameter's and its own (``X-Api-Key`` →
    ``x_api_key``), then ``api_key`` and ``apikey``."""
    names = [scheme.parameter, scheme.name]
    names += [re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") for name in names]
    return list(dict.fromkeys(name for name in [*names, "api_key", "apikey"] if name))
