"""Why an OpenAPI description cannot be imported, as typed errors the API answers with a 4xx problem."""

from __future__ import annotations

from orchestra.errors import InvalidInput, OrchestraError


class InvalidDescription(InvalidInput):
    """The text or document is not a usable OpenAPI 3.x description (422)."""

    title = "Invalid OpenAPI description"


class DescriptionTooLarge(OrchestraError):
    """Bigger than we are willing to parse or store (413), before or after ``$ref`` expansion."""

    status = 413
    title = "OpenAPI description too large"


class FetchFailed(InvalidInput):
    """The description could not be fetched from its URL: refused by the egress policy, unreachable, or
    answered with something other than a 200 (422, with the reason)."""

    title = "OpenAPI description not fetched"


class UnsupportedMediaType(OrchestraError):
    status = 415
    title = "Unsupported media type"
