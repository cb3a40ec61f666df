"""The API's log-in as a call of the plan: whether an operation is the log-in (it then creates nothing to
undo), whether the environment has what its body needs, its call planned first and once, the token read
from its answer, and a field of the signed-in user's own in that answer (``$.user.username``). Which
operation is the log-in is ``login.py``'s to find."""

from __future__ import annotations

import re
from typing import Any

from orchestra.openapi.operations import Operation
from orchestra.testdata.planner.entities import field_path, resource_of
from orchestra.testdata.planner.login import Login
from orchestra.testdata.planner.plan_state import PlanState, template
from orchestra.testdata.planner.undo import creates
from orchestra.testdata.plans.dataplan_model import Binding, Call
from orchestra.testdata.values.name_hints import snake

_SIGNS_OUT = re.compile(r"logout|signout|logoff|revoke|invalidate")


def _words_of(operation: Operation) -> str:
    """The operation's id and path as one lowercase run of letters and digits (``POST /auth/log-out``:
    ``authlogout``)."""
    return re.sub(r"[^a-z0-9]", "", f"{operation.operation_id}{operation.path}".lower())


class LoginCall(PlanState):
    """Plans the API's log-in and answers whether an operation is it."""

    def creates(self, operation: Operation) -> bool:
        """Whether calling ``operation`` makes something to undo (``undo.creates``): never the log-in."""
        return creates(self.catalogue, operation) and not self.is_login(operation)

    def is_login(self, operation: Operation) -> bool:
        """Whether ``operation`` is the API's log-in (whatever credentials the environment has)."""
        chosen = self.chosen_login[0]
        return chosen is not None and chosen.operation_id == operation.operation_id

    def login(self) -> Login | None:
        """The API's log-in when the environment has the credentials its body requires."""
        return self.login_choice()[0]

    def login_problem(self) -> str:
        found, why = self.login_choice()
        return "" if found is not None else why

    def login_choice(self) -> tuple[Login | None, str]:
        if self._login is None:
            found, why = self.chosen_login
            if found is not None:
                missing = [path for path in found.required if not self.credential_of(path[-1])]
                if missing:
                    fields = ", ".join(".".join(path) for path in missing)
                    names = ", ".join(dict.fromkeys(path[-1] for path in missing))
                    why = f"{found.operation_id} needs {fields}: set secrets named {names}"
                    found = None
            self._login = (found, why)
        return self._login

    def credential_of(self, name: str) -> str | None:
        """``secrets.<name>`` or ``env.<name>``: the environment's value for a log-in field of that name."""
        if name in self.secrets:
            return f"secrets.{name}"
        return f"env.{name}" if name in self.variables else None

    def credentials_body(self, login: Login) -> dict[str, Any] | None:
        """The log-in's body: each of its fields the environment has, at its place (``{"user": {"email":
        "{{ secrets.email }}", …}}``)."""
        body: dict[str, Any] = {}
        for path in login.fields:
            source = self.credential_of(path[-1])
            if source is None:
                continue
            place = body
            for key in path[:-1]:
                place = place.setdefault(key, {})
            place[path[-1]] = template(source)
        return body or None

    def login_token(self, scheme: str) -> str:
        """``data.<binding>.<the token's path>`` of the log-in's call (planned first, once)."""
        login = self.login()
        assert login is not None, "credential_rank checked there is one"
        self.login_binding()
        fields = [path[-1] for path in login.fields if self.credential_of(path[-1])]
        self.note(f"{scheme}: a token from {login.operation_id} with {', '.join(fields) or 'no input'}")
        return f"data.{self.token_binding}.{login.member}"

    def login_binding(self) -> str:
        """The binding calling the log-in (planned first, once)."""
        login = self.login()
        assert login is not None, "called only with a log-in"
        if self.token_binding is None:
            self.token_binding = self.name("auth")
            # A token in the body is read from the answer as it is (``data.auth.user.token``, as tests
            # written against the plan's answer expect); one in a header is captured (``data.auth.token``).
            capture = {} if login.in_body else {"token": login.token}
            call = Call(operation=login.operation_id, body=self.credentials_body(login), capture=capture)
            self.bindings = {self.token_binding: Binding(call=call)} | self.bindings
            self.note(self.login_choice()[1])
        return self.token_binding

    def token_given(self, operation: Operation, prop: str) -> str | None:
        """For a body field named like a token the log-in gives besides the one it signs in with
        (``refresh_token``, ``id_token``): that field of the log-in's answer (``{{
        data.auth.data.refresh_token }}``), planning the log-in. None for any other field, for the token the
        requests carry (a field ``token`` may be anything: an e-mail's, an invitation's), and for a sign-out
        (it would end the session the plan's own calls and cleanups use)."""
        key = snake(prop)
        login = self.login()
        if not key.endswith("_token") or login is None or _SIGNS_OUT.search(_words_of(operation)):
            return None
        if key == snake(login.member.rsplit(".", 1)[-1]):
            return None
        found = self.signed_in_field(prop)
        return None if found is None else found[0]

    def signed_in_field(self, parameter: str) -> tuple[str, str] | None:
        """(the template, ``$.path``) of the field of that name in the log-in's answer (``$.user.username``),
        planning the log-in; None without a log-in answering its token in its body, or without that field."""
        login = self.login()
        if login is None or not login.in_body:
            return None
        key, properties = resource_of(login.operation)
        name = next((name for name in properties if snake(name) == snake(parameter)), None)
        if name is None:
            return None
        path = field_path(key, name)
        return template(f"data.{self.login_binding()}.{path}"), f"$.{path}"
