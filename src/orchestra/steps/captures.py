"""Capturing values from a response into run variables for later steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestra.definitions.testcase_model import CaptureSpec
from orchestra.steps.expectations import AssertionResult, find_values
from orchestra.steps.response import ResponseView


class _NothingCaptured(Exception):
    """The source has no value; the message says why, for a failure when there is no default."""


def _source_text(spec: CaptureSpec) -> str:
    if spec.json_path is not None:
        return spec.json_path
    if spec.header is not None:
        return f"header {spec.header}"
    return "status" if spec.status else "body"


def _capture(spec: CaptureSpec, response: ResponseView) -> Any:
    if spec.status:
        return response.status
    if spec.body:
        return response.text
    if spec.header is not None:
        value = response.headers.get(spec.header)
        if value is None:
            raise _NothingCaptured(f"header {spec.header} is missing from the response")
        return value
    assert spec.json_path is not None
    if not response.is_json:
        text = response.text[:80]
        content_type = response.content_type or "none"
        raise _NothingCaptured(f"response body is not JSON (content-type: {content_type}): {text!r}")
    try:
        values = find_values(spec.json_path, response.json_value)
    except Exception as error:  # filters comparing mismatched types raise from inside jsonpath-ng
        raise _NothingCaptured(f"{spec.json_path} could not be evaluated: {error}") from None
    if not values:
        raise _NothingCaptured(f"{spec.json_path} matched nothing in the response")
    return values[0] if len(values) == 1 else values


def apply_captures(
    capture: Mapping[str, str | CaptureSpec], response: ResponseView
) -> tuple[dict[str, Any], list[AssertionResult]]:
    """Captured values by variable name, and one failed result per capture that found nothing.

    A JSONPath matching one value captures that value; matching several captures the list of them.
    A capture with a ``default`` never fails.
    """
    values: dict[str, Any] = {}
    failures: list[AssertionResult] = []
    for name, source in capture.items():
        spec = (
            CaptureSpec(json_path=source) if isinstance(source, str) else CaptureSpec.model_validate(source)
        )
        try:
            values[name] = _capture(spec, response)
        except _NothingCaptured as problem:
            if spec.has_default:
                values[name] = spec.default
            else:
                check = f"capture {name}"
                failures.append(
                    AssertionResult(check, False, _source_text(spec), None, f"{check}: {problem}")
                )
    return values, failures
