"""Checking a plan against the SUT's API description before anything is sent.

Validation never renders a template or calls the SUT: it reads templates' syntax trees, resolves
operations in the catalogue and judges literal bodies by the request schema (a template stands for a value
of whatever type the schema wants there). Every problem has a stable code (docs/dataplan.md).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from orchestra.definitions.testcase_model import compile_jsonpath, has_template
from orchestra.kit.egress import EgressPolicy
from orchestra.openapi.operations import Catalogue, Operation
from orchestra.steps.templating import ENVIRONMENT
from orchestra.testdata.plans.dataplan_model import Binding, DataPlan, Request
from orchestra.testdata.plans.graph import explicit_dependencies, find_cycle
from orchestra.testdata.plans.plan_problems import PlanProblem
from orchestra.testdata.plans.templates import TemplateSyntax, references, strings_in
from orchestra.testdata.values.generator import GeneratorError, ValueGenerator, faker_providers
from orchestra.testdata.values.json_schemas import UnusableSchema, schema_errors, validator_for

ROOTS = frozenset({"data", "env", "secrets", "vars", "run"})
_FUNCTIONS = frozenset(ENVIRONMENT.globals)
_ABSOLUTE_URL = re.compile(r"\b(?:https?|wss?)://([^/\s?#'\"{}]+)", re.IGNORECASE)
_HOST_HEADERS = ("host", "x-forwarded-host", "forwarded")


def parse_plan(data: Any) -> tuple[DataPlan | None, list[PlanProblem]]:
    """The plan, or None and one ``schema`` problem per thing the DataPlan format does not allow."""
    if not isinstance(data, dict):
        return None, [PlanProblem("", "schema", f"a plan must be an object, not {type(data).__name__}")]
    try:
        return DataPlan.model_validate(data), []
    except ValidationError as error:
        problems = [
            PlanProblem(".".join(str(part) for part in item["loc"]), "schema", item["msg"])
            for item in error.errors(include_url=False)
        ]
        return None, problems


def validate_plan(plan: DataPlan, catalogue: Catalogue, policy: EgressPolicy | None) -> list[PlanProblem]:
    """Every problem of ``plan`` against ``catalogue`` (and, given one, the environment's egress policy)."""
    checker = _Checker(plan, catalogue, policy)
    checker.run()
    return checker.problems


class _Checker:
    def __init__(self, plan: DataPlan, catalogue: Catalogue, policy: EgressPolicy | None) -> None:
        self.plan, self.catalogue, self.policy = plan, catalogue, policy
        self.problems: list[PlanProblem] = []

    def add(self, path: str, code: str, message: str) -> None:
        self.problems.append(PlanProblem(path, code, message))

    def run(self) -> None:
        if self.policy is not None and not self.policy.hosts:
            self.add("", "host_not_allowed", "the environment has no base URL host to send requests to")
        self._templates("defaults.headers", self.plan.defaults.headers, cleanup=False)
        self._hosts("defaults.headers", self.plan.defaults.headers, headers=True)
        for name, binding in self.plan.bindings.items():
            self._binding(f"bindings.{name}", name, binding)
        self._cycles()

    # -- bindings ----------------------------------------------------------------------------------------

    def _binding(self, path: str, name: str, binding: Binding) -> None:
        if name in binding.depends_on:
            self.add(f"{path}.depends_on", "self_dependency", f"binding '{name}' depends on itself")
        if binding.generate is not None:
            self._generate(f"{path}.generate", name, binding)
        if binding.kind == "value":
            self._templates(f"{path}.value", binding.value, cleanup=False)
        for kind, request in (("call", binding.call), ("lookup", binding.lookup)):
            if request is not None:
                self._request(f"{path}.{kind}", name, request, cleanup=False)
        if binding.call is not None:
            for capture, source in binding.call.capture.items():
                self._capture(f"{path}.call.capture.{capture}", source)
        if binding.lookup is not None:
            self._select(f"{path}.lookup.select", binding.lookup.select)
        if binding.cleanup is not None:
            self._cleanup(f"{path}.cleanup", name, binding)
        for dep in binding.depends_on:
            if dep not in self.plan.bindings:
                self.add(f"{path}.depends_on", "unresolved_reference", _no_binding(dep, self.plan))

    def _generate(self, path: str, name: str, binding: Binding) -> None:
        generate = binding.generate
        assert generate is not None
        try:
            if generate.faker is not None:
                if generate.faker not in faker_providers():
                    ValueGenerator(0, name).from_faker(generate.faker)  # raises with close matches
                ValueGenerator(self.plan.seed, name).from_faker(generate.faker, generate.faker_args)
            elif generate.json_schema is not None:
                ValueGenerator(self.plan.seed, name).for_schema(generate.json_schema, for_request=False)
        except GeneratorError as error:
            self.add(path, "generator_invalid", str(error))

    def _request(self, path: str, name: str, request: Request, *, cleanup: bool) -> None:
        self._templates(path, [request.path, request.query, request.headers, request.body], cleanup=cleanup)
        self._hosts(f"{path}.headers", request.headers, headers=True)
        self._hosts(path, [request.path, request.query, request.body], headers=False)
        operation = self.catalogue.get(request.operation)
        if operation is None:
            code = "cleanup_mismatch" if cleanup else "unknown_operation"
            self.add(f"{path}.operation", code, self._unknown_operation(request.operation))
            return
        self._parameters(path, operation, request, cleanup=cleanup)
        self._body(f"{path}.body", operation, request.body)

    def _unknown_operation(self, operation_id: str) -> str:
        close = difflib.get_close_matches(operation_id, list(self.catalogue.operations), n=3, cutoff=0.6)
        hint = f"close matches: {', '.join(close)}" if close else "no close match"
        return f"operation '{operation_id}' is not in the API description ({hint})"

    def _parameters(self, path: str, operation: Operation, request: Request, *, cleanup: bool) -> None:
        given_headers = {key.lower() for key in [*request.headers, *self.plan.defaults.headers]}
        given = {"path": set(request.path), "query": set(request.query), "header": given_headers}
        for parameter in operation.parameters:
            if not parameter.required or parameter.location not in given:
                continue
            name = parameter.name.lower() if parameter.location == "header" else parameter.name
            if name not in given[parameter.location]:
                code = "cleanup_mismatch" if cleanup and parameter.location == "path" else "missing_parameter"
                self.add(
                    f"{path}.{parameter.location}",
                    code,
                    f"required {parameter.location} parameter '{parameter.name}' of "
                    f"{operation.operation_id} is not given",
                )
        for location, values in (("path", request.path), ("query", request.query)):
            known = {p.name for p in operation.parameters if p.location == location}
            if location == "query":  # an API key its security schemes send in the query
                known |= _query_keys(self.catalogue, operation)
            for key in values:
                if key not in known:
                    listed = ", ".join(sorted(known)) or "none"
                    self.add(
                        f"{path}.{location}.{key}",
                        "unknown_parameter",
                        f"{operation.operation_id} has no {location} parameter '{key}' (it has: {listed})",
                    )

    def _body(self, path: str, operation: Operation, body: Any) -> None:
        if body is None:
            if operation.request_body_required:
                self.add(path, "body_missing", f"{operation.operation_id} requires a JSON body")
            return
        if operation.request_schema is None:
            self.add(path, "unexpected_body", f"{operation.operation_id} takes no JSON body")
            return
        if isinstance(body, str) and has_template(body):
            return  # the whole body comes from a template: judged when rendered
        try:
            errors = schema_errors(validator_for(operation.request_schema, for_request=True), body)
        except UnusableSchema as error:  # a schema of the SUT that is not valid JSON Schema
            self.add(path, "body_invalid", f"the request schema of {operation.operation_id}: {error}")
            return
        for found in sorted(errors, key=lambda e: (list(map(str, e.path)), e.message)):
            if _from_template(found.instance) or any(_from_template(c.instance) for c in found.context or ()):
                continue
            pointer = "".join(f"/{part}" for part in found.path) or "/"
            self.add(path, "body_invalid", f"{pointer}: {found.message[:300]}")

    def _capture(self, path: str, source: str) -> None:
        if source == "status":
            return
        if source.startswith("header:"):
            if not source[len("header:") :].strip():
                self.add(path, "bad_capture", "header: needs a header name, e.g. header:Location")
            return
        if not source.startswith("$"):
            self.add(path, "bad_capture", f"{source!r} is not a JSONPath ($...), header:<Name> or status")
            return
        problem = _jsonpath_problem(source)
        if problem:
            self.add(path, "bad_capture", f"{source!r} is not a valid JSONPath: {problem}")

    def _select(self, path: str, select: str) -> None:
        problem = "it must start with $" if not select.startswith("$") else _jsonpath_problem(select)
        if problem:
            self.add(path, "bad_select", f"{select!r} is not a valid JSONPath: {problem}")

    def _cleanup(self, path: str, name: str, binding: Binding) -> None:
        cleanup = binding.cleanup
        assert cleanup is not None
        assert binding.call is not None
        self._request(path, name, cleanup, cleanup=True)
        operation = self.catalogue.get(cleanup.operation)
        captured = set(binding.call.capture)
        for key, value in cleanup.path.items():
            texts = list(strings_in(value))
            try:
                used = [references(text) for text in texts]
            except TemplateSyntax:
                continue
            if operation is not None and not any(refs.roots & {"self", "data"} for refs in used):
                self.add(
                    f"{path}.path.{key}",
                    "cleanup_mismatch",
                    f"path parameter '{key}' of the cleanup must come from self (e.g. {{{{ self.id }}}})",
                )
            for refs in used:
                missing = sorted(refs.members.get("self", frozenset()) - captured) if captured else []
                if missing:
                    self.add(
                        f"{path}.path.{key}",
                        "cleanup_mismatch",
                        f"self.{missing[0]} is not captured by the call "
                        f"(captures: {', '.join(sorted(captured))})",
                    )

    # -- templates, hosts, cycles ------------------------------------------------------------------------

    def _templates(self, path: str, value: Any, *, cleanup: bool) -> None:
        for text in strings_in(value):
            try:
                refs = references(text)
            except TemplateSyntax as error:
                self.add(path, "template_syntax", str(error))
                continue
            for root in sorted(refs.roots - ROOTS - _FUNCTIONS):
                if root == "self":
                    if not cleanup:
                        self.add(path, "unresolved_reference", "'self' is only available in a cleanup")
                    continue
                allowed = ", ".join(sorted(ROOTS | ({"self"} if cleanup else set())))
                self.add(path, "unresolved_reference", f"unknown name '{root}' (use one of: {allowed})")
            for name in sorted(refs.data):
                if name not in self.plan.bindings:
                    self.add(path, "unresolved_reference", _no_binding(name, self.plan))

    def _hosts(self, path: str, value: Any, *, headers: bool) -> None:
        """An absolute URL in a plan points the SUT (a callback, a redirect target) or a proxy somewhere; it
        must name a host the environment allows, like every request the resolver sends itself."""
        if self.policy is None:
            return
        items: Iterable[tuple[str, str]]
        if headers and isinstance(value, dict):
            items = [(str(k), v) for k, v in value.items() if isinstance(v, str)]
        else:
            items = [("", text) for text in strings_in(value)]
        for header, text in items:
            hosts = [m.group(1) for m in _ABSOLUTE_URL.finditer(text)]
            if header.lower() in _HOST_HEADERS and not has_template(text):
                forwarded = header.lower() == "forwarded"
                if not forwarded or "host=" in text:
                    hosts.append(text.split(",")[0].split("host=")[-1].split(";")[0].strip().strip('"'))
            for host in hosts:
                bare = host.rsplit("@", 1)[-1]
                bare = bare[1:].split("]")[0] if bare.startswith("[") else bare.split(":")[0]
                if bare and not self.policy.allows_host(bare):
                    self.add(path, "host_not_allowed", _refusal(self.policy, bare))

    def _cycles(self) -> None:
        deps = {
            name: {dep for dep in found if dep in self.plan.bindings and dep != name}
            for name, found in explicit_dependencies(self.plan).items()
        }
        for name, found in explicit_dependencies(self.plan).items():
            if name in found and name not in self.plan.bindings[name].depends_on:
                self.add(f"bindings.{name}", "self_dependency", f"binding '{name}' uses its own value")
        cycle = find_cycle(deps)
        if cycle is not None:
            self.add(f"bindings.{cycle[0]}", "cycle", "dependency cycle: " + " → ".join(cycle))


def _from_template(instance: Any) -> bool:
    return isinstance(instance, str) and has_template(instance)


def _jsonpath_problem(expression: str) -> str | None:
    try:
        compile_jsonpath(expression)
    except Exception as error:  # jsonpath-ng raises several exception types for bad syntax
        return str(error)[:200] or type(error).__name__
    return None


def _no_binding(name: str, plan: DataPlan) -> str:
    listed = ", ".join(sorted(plan.bindings)[:20]) or "none"
    return f"data.{name}: no binding named '{name}' (bindings: {listed})"


def _refusal(policy: EgressPolicy, host: str) -> str:
    listed = ", ".join(policy.hosts[:5]) or "none"
    return f"host '{host}' is not allowed for the environment (allowed: {listed})"


def _query_keys(catalogue: Catalogue, operation: Operation) -> set[str]:
    """The query parameters that the API key schemes the operation accepts are sent in."""
    schemes = [catalogue.security_schemes.get(name) for name in operation.security]
    return {s.parameter for s in schemes if s is not None and s.type == "apiKey" and s.location == "query"}
