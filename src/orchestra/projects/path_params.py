"""Path parameters of the HTTP routes that name a project's things (kept apart from the schemas, which the
command line and the engine use without the web framework)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from orchestra.definitions.testcase_model import NAME_PATTERN

# A path segment that names what a PUT (or apply) creates when it is missing: it must be a name such a thing
# can have. The pattern is declared; the service refuses any other with a message that says why.
NameInPath = Annotated[str, Path(max_length=200, json_schema_extra={"pattern": NAME_PATTERN})]
