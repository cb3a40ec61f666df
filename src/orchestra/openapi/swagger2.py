"""A Swagger 2.0 description converted to the OpenAPI 3.0 document it describes, for every part Orchestra
reads: servers, operations and their parameters, request bodies, responses, schemas and security schemes.

- ``host`` + ``basePath`` + ``schemes`` → ``servers`` (no host: the base path alone, relative to where the
  description was found);
- ``definitions`` / ``parameters`` / ``responses`` / ``securityDefinitions`` → ``components`` (a shared
  ``body`` parameter → ``components.requestBodies``), every ``$ref`` rewritten to its new place;
- a ``body`` parameter → ``requestBody`` with one content entry per ``consumes`` media type (default
  ``application/json``); ``formData`` parameters → one object schema under ``multipart/form-data`` (when
  a parameter is a file or the operation consumes it) or ``application/x-www-form-urlencoded``;
- other parameters keep their place, their type keywords moved under ``schema``; ``collectionFormat`` →
  ``style``/``explode``;
- response ``schema`` → ``content`` per ``produces`` media type (default ``application/json``), ``examples``
  → each content's ``example``; response headers get a ``schema``;
- schemas: ``type: file`` → a binary string, ``x-nullable`` → ``nullable``, a ``discriminator`` name → a
  discriminator object;
- security definitions: ``basic`` → HTTP basic, ``apiKey`` as it is, ``oauth2`` → the matching flow
  (``implicit``, ``password``, ``application`` → client credentials, ``accessCode`` → authorization code).

Everything else (``info``, ``tags``, ``externalDocs``, ``x-`` extensions, operation ids, summaries) is kept.
The input is hostile: every part is type-checked and a malformed one refused with its JSON pointer.
"""

from __future__ import annotations

from typing import Any

from orchestra.openapi.errors import InvalidDescription

OPENAPI_VERSION = "3.0.3"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_DEFAULT_MEDIA_TYPE = "application/json"
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
# Parameter keywords that describe the value: in OpenAPI 3 they live in the parameter's ``schema``.
_SCHEMA_KEYWORDS = (
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
)
_REF_PREFIXES = {
    "#/definitions/": "#/components/schemas/",
    "#/responses/": "#/components/responses/",
}
_OAUTH_FLOWS = {
    "implicit": ("implicit", ("authorizationUrl",)),
    "password": ("password", ("tokenUrl",)),
    "application": ("clientCredentials", ("tokenUrl",)),
    "accessCode": ("authorizationCode", ("authorizationUrl", "tokenUrl")),
}


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidDescription(f"Swagger 2.0: {where} must be an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidDescription(f"Swagger 2.0: {where} must be a list")
    return value


def _media_types(value: Any, where: str, default: list[str]) -> list[str]:
    if value is None:
        return default
    types = _list(value, where)
    if not all(isinstance(item, str) for item in types):
        raise InvalidDescription(f"Swagger 2.0: {where} must be a list of media types")
    return list(dict.fromkeys(types)) or default


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


class _Converter:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.consumes = _media_types(document.get("consumes"), "consumes", [_DEFAULT_MEDIA_TYPE])
        self.produces = _media_types(document.get("produces"), "produces", [_DEFAULT_MEDIA_TYPE])
        self.shared_parameters = _object(document.get("parameters", {}), "parameters")
        self.body_parameters = {  # shared parameters that become components.requestBodies / are inlined
            name
            for name, parameter in self.shared_parameters.items()
            if isinstance(parameter, dict) and parameter.get("in") in ("body", "formData")
        }

    # -- references and schemas ------------------------------------------------------------------------

    def ref(self, ref: Any, where: str) -> str:
        if not isinstance(ref, str):
            raise InvalidDescription(f"Swagger 2.0: {where}.$ref must be a string")
        for old, new in _REF_PREFIXES.items():
            if ref.startswith(old):
                return new + ref[len(old) :]
        if ref.startswith("#/parameters/"):
            name = ref[len("#/parameters/") :]
            kind = "requestBodies" if name in self.body_parameters else "parameters"
            return f"#/components/{kind}/{name}"
        return ref  # another document, or a pointer into this one left as it is

    def schema(self, schema: Any, where: str) -> Any:
        """A Swagger schema (a JSON Schema draft 4 subset) as an OpenAPI 3.0 schema, recursively."""
        if isinstance(schema, list):
            return [self.schema(item, f"{where}/{index}") for index, item in enumerate(schema)]
        if not isinstance(schema, dict):
            return schema
        converted: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "$ref":
                converted[key] = self.ref(value, where)
            elif key == "x-nullable":
                if value is True:
                    converted["nullable"] = True
            elif key == "type" and value == "file":
                converted["type"] = "string"
                converted["format"] = "binary"
            elif key == "discriminator" and isinstance(value, str):
                converted[key] = {"propertyName": value}
            elif key in ("properties", "definitions", "patternProperties"):
                properties = _object(value, f"{where}/{key}")
                converted[key] = {
                    name: self.schema(item, f"{where}/{key}/{_pointer(name)}")
                    for name, item in properties.items()
                }
            elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
                converted[key] = self.schema(value, f"{where}/{key}")
            else:  # the keywords both versions share, examples and extensions, as they are
                converted[key] = value
        return converted

    # -- parameters ------------------------------------------------------------------------------------

    def resolved_parameter(self, parameter: Any, where: str) -> dict[str, Any]:
        """A parameter, a reference to a shared one followed (one level: shared ones hold no references)."""
        found = _object(parameter, where)
        if "$ref" in found:
            ref = found["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/parameters/"):
                raise InvalidDescription(
                    f"Swagger 2.0: {where}: a parameter can only refer to #/parameters/…"
                )
            name = ref[len("#/parameters/") :]
            if name not in self.shared_parameters:
                raise InvalidDescription(f"Swagger 2.0: {where}: {ref} is not defined")
            return _object(self.shared_parameters[name], f"parameters/{_pointer(name)}")
        return found

    def parameter(self, parameter: dict[str, Any], where: str) -> dict[str, Any]:
        """A query, header or path parameter as an OpenAPI 3 parameter."""
        location = parameter.get("in")
        if location not in ("query", "header", "path"):
            raise InvalidDescription(
                f"Swagger 2.0: {where}: 'in' must be query, header, path, body or formData"
            )
        if not isinstance(parameter.get("name"), str):
            raise InvalidDescription(f"Swagger 2.0: {where}: a parameter needs a name")
        converted: dict[str, Any] = {"name": parameter["name"], "in": location}
        for key in ("description", "required", "allowEmptyValue", "deprecated"):
            if key in parameter:
                converted[key] = parameter[key]
        if location == "path":
            converted["required"] = True
        schema = {key: parameter[key] for key in _SCHEMA_KEYWORDS if key in parameter}
        if parameter.get("x-nullable") is True:
            schema["nullable"] = True
        converted["schema"] = self.schema(schema or {"type": "string"}, f"{where}/schema")
        style = self.style(parameter, location, where)
        if style is not None:
            converted["style"], converted["explode"] = style
        for key, value in parameter.items():
            if key.startswith("x-") and key != "x-nullable":
                converted[key] = value
        return converted

    @staticmethod
    def style(parameter: dict[str, Any], location: str, where: str) -> tuple[str, bool] | None:
        if parameter.get("type") != "array":
            return None
        collection = parameter.get("collectionFormat", "csv")
        if collection == "multi":
            if location != "query":
                raise InvalidDescription(
                    f"Swagger 2.0: {where}: collectionFormat multi is for query parameters"
                )
            return "form", True
        styles = {"csv": "form" if location == "query" else "simple", "ssv": "spaceDelimited"}
        styles["pipes"] = "pipeDelimited"
        if collection not in styles:
            raise InvalidDescription(
                f"Swagger 2.0: {where}: collectionFormat {str(collection)[:20]!r} is not supported"
            )
        return styles[collection], False

    def body(self, parameter: dict[str, Any], consumes: list[str], where: str) -> dict[str, Any]:
        schema = self.schema(_object(parameter.get("schema"), f"{where}/schema"), f"{where}/schema")
        body: dict[str, Any] = {"content": {media_type: {"schema": schema} for media_type in consumes}}
        if "description" in parameter:
            body["description"] = parameter["description"]
        if parameter.get("required") is True:
            body["required"] = True
        if "x-examples" in parameter and isinstance(parameter["x-examples"], dict):
            for media_type, example in parameter["x-examples"].items():
                if media_type in body["content"]:
                    body["content"][media_type]["example"] = example
        return body

    def form(self, fields: list[dict[str, Any]], consumes: list[str], where: str) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for index, field in enumerate(fields):
            name = field.get("name")
            if not isinstance(name, str):
                raise InvalidDescription(f"Swagger 2.0: {where}/{index}: a formData parameter needs a name")
            schema = {key: field[key] for key in _SCHEMA_KEYWORDS if key in field}
            if "description" in field:
                schema["description"] = field["description"]
            properties[name] = self.schema(schema or {"type": "string"}, f"{where}/{index}")
            if field.get("required") is True:
                required.append(name)
        multipart = any(field.get("type") == "file" for field in fields) or _MULTIPART in consumes
        media_type = _MULTIPART if multipart else _FORM
        form: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            form["required"] = required
        body: dict[str, Any] = {"content": {media_type: {"schema": form}}}
        if required:
            body["required"] = True
        return body

    # -- operations ------------------------------------------------------------------------------------

    def operation(
        self, operation: dict[str, Any], inherited: list[tuple[dict[str, Any], Any]], where: str
    ) -> dict[str, Any]:
        """An operation; ``inherited`` are its path's parameters (each resolved, and as written)."""
        consumes = _media_types(operation.get("consumes"), f"{where}/consumes", self.consumes)
        produces = _media_types(operation.get("produces"), f"{where}/produces", self.produces)
        own = [
            (self.resolved_parameter(item, f"{where}/parameters/{index}"), item)
            for index, item in enumerate(_list(operation.get("parameters", []), f"{where}/parameters"))
        ]
        keys = {(parameter.get("name"), parameter.get("in")) for parameter, _ in own}
        merged = [
            entry for entry in inherited if (entry[0].get("name"), entry[0].get("in")) not in keys
        ] + own
        converted: dict[str, Any] = {}
        for key, value in operation.items():
            if key in ("parameters", "consumes", "produces", "responses", "schemes"):
                continue
            converted[key] = value
        parameters: list[dict[str, Any]] = []
        fields: list[dict[str, Any]] = []
        body: dict[str, Any] | None = None
        for index, (parameter, original) in enumerate(merged):
            at = f"{where}/parameters/{index}"
            if parameter.get("in") == "body":
                if body is not None:
                    raise InvalidDescription(f"Swagger 2.0: {where}: more than one body parameter")
                if "$ref" in original:
                    body = {"$ref": self.ref(original["$ref"], at)}
                else:
                    body = self.body(parameter, consumes, at)
            elif parameter.get("in") == "formData":
                fields.append(parameter)
            elif "$ref" in original:
                parameters.append({"$ref": self.ref(original["$ref"], at)})
            else:
                parameters.append(self.parameter(parameter, at))
        if body is not None and fields:
            raise InvalidDescription(f"Swagger 2.0: {where}: both a body and formData parameters")
        if fields:
            body = self.form(fields, consumes, f"{where}/parameters")
        if parameters:
            converted["parameters"] = parameters
        if body is not None:
            converted["requestBody"] = body
        responses = _object(operation.get("responses", {}), f"{where}/responses")
        converted["responses"] = {
            str(code): self.response(response, produces, f"{where}/responses/{code}")
            for code, response in responses.items()
        }
        return converted

    def response(self, response: Any, produces: list[str], where: str) -> dict[str, Any]:
        response = _object(response, where)
        if "$ref" in response:
            return {"$ref": self.ref(response["$ref"], where)}
        converted: dict[str, Any] = {"description": str(response.get("description", ""))}
        if "schema" in response:
            schema = self.schema(_object(response["schema"], f"{where}/schema"), f"{where}/schema")
            converted["content"] = {media_type: {"schema": schema} for media_type in produces}
            examples = response.get("examples")
            if isinstance(examples, dict):
                for media_type, example in examples.items():
                    if media_type in converted["content"]:
                        converted["content"][media_type]["example"] = example
        headers = _object(response.get("headers", {}), f"{where}/headers")
        if headers:
            converted["headers"] = {}
            for name, header in headers.items():
                header = _object(header, f"{where}/headers/{_pointer(name)}")
                schema = {key: header[key] for key in _SCHEMA_KEYWORDS if key in header}
                entry: dict[str, Any] = {"schema": self.schema(schema or {"type": "string"}, where)}
                if "description" in header:
                    entry["description"] = header["description"]
                converted["headers"][name] = entry
        for key, value in response.items():
            if key.startswith("x-"):
                converted[key] = value
        return converted

    def paths(self) -> dict[str, Any]:
        converted: dict[str, Any] = {}
        for path, item in _object(self.document.get("paths"), "paths").items():
            where = f"paths/{_pointer(path)}"
            item = _object(item, where)
            if "$ref" in item:
                raise InvalidDescription(
                    f"Swagger 2.0: {where}: a path item that refers elsewhere is not supported"
                )
            inherited = [
                (self.resolved_parameter(parameter, f"{where}/parameters/{index}"), parameter)
                for index, parameter in enumerate(_list(item.get("parameters", []), f"{where}/parameters"))
            ]
            entry: dict[str, Any] = {}
            for key, value in item.items():
                if key in _METHODS:
                    entry[key] = self.operation(_object(value, f"{where}/{key}"), inherited, f"{where}/{key}")
                elif key.startswith("x-"):
                    entry[key] = value
            converted[path] = entry
        return converted

    # -- the rest --------------------------------------------------------------------------------------

    def servers(self) -> list[dict[str, str]]:
        host = self.document.get("host")
        base_path = self.document.get("basePath", "/")
        if not isinstance(base_path, str) or not base_path.startswith("/"):
            raise InvalidDescription("Swagger 2.0: basePath must start with '/'")
        base_path = base_path.rstrip("/")
        schemes = self.document.get("schemes") or ["https"]
        if not isinstance(schemes, list) or not all(
            scheme in ("http", "https", "ws", "wss") for scheme in schemes
        ):
            raise InvalidDescription("Swagger 2.0: schemes must be a list of http, https, ws, wss")
        if host is None:
            return [{"url": base_path or "/"}]
        if not isinstance(host, str) or not host or "/" in host or any(c.isspace() for c in host):
            raise InvalidDescription(
                "Swagger 2.0: host must be a host name (and port), without a scheme or path"
            )
        return [{"url": f"{scheme}://{host}{base_path}"} for scheme in schemes if scheme in ("http", "https")]

    def security_scheme(self, name: str, definition: Any) -> dict[str, Any]:
        where = f"securityDefinitions/{_pointer(name)}"
        definition = _object(definition, where)
        kind = definition.get("type")
        converted: dict[str, Any]
        if kind == "basic":
            converted = {"type": "http", "scheme": "basic"}
        elif kind == "apiKey":
            if definition.get("in") not in ("header", "query") or not isinstance(definition.get("name"), str):
                raise InvalidDescription(
                    f"Swagger 2.0: {where}: an apiKey needs a name and 'in' header or query"
                )
            converted = {"type": "apiKey", "name": definition["name"], "in": definition["in"]}
        elif kind == "oauth2":
            flow = definition.get("flow")
            if flow not in _OAUTH_FLOWS:
                raise InvalidDescription(
                    f"Swagger 2.0: {where}: flow must be implicit, password, application or accessCode"
                )
            name_in_3, urls = _OAUTH_FLOWS[flow]
            scopes = _object(definition.get("scopes", {}), f"{where}/scopes")
            details: dict[str, Any] = {"scopes": scopes}
            for url in urls:
                if not isinstance(definition.get(url), str):
                    raise InvalidDescription(f"Swagger 2.0: {where}: the {flow} flow needs {url}")
                details[url] = definition[url]
            converted = {"type": "oauth2", "flows": {name_in_3: details}}
        else:
            raise InvalidDescription(f"Swagger 2.0: {where}: type must be basic, apiKey or oauth2")
        if "description" in definition:
            converted["description"] = definition["description"]
        return converted

    def components(self) -> dict[str, Any]:
        components: dict[str, Any] = {}
        definitions = _object(self.document.get("definitions", {}), "definitions")
        if definitions:
            components["schemas"] = {
                name: self.schema(schema, f"definitions/{_pointer(name)}")
                for name, schema in definitions.items()
            }
        parameters: dict[str, Any] = {}
        bodies: dict[str, Any] = {}
        for name, parameter in self.shared_parameters.items():
            where = f"parameters/{_pointer(name)}"
            parameter = _object(parameter, where)
            if parameter.get("in") == "body":
                bodies[name] = self.body(parameter, self.consumes, where)
            elif parameter.get("in") == "formData":
                bodies[name] = self.form([parameter], self.consumes, where)
            else:
                parameters[name] = self.parameter(parameter, where)
        if parameters:
            components["parameters"] = parameters
        if bodies:
            components["requestBodies"] = bodies
        responses = _object(self.document.get("responses", {}), "responses")
        if responses:
            components["responses"] = {
                name: self.response(response, self.produces, f"responses/{_pointer(name)}")
                for name, response in responses.items()
            }
        security = _object(self.document.get("securityDefinitions", {}), "securityDefinitions")
        if security:
            components["securitySchemes"] = {
                name: self.security_scheme(name, item) for name, item in security.items()
            }
        return components

    def convert(self) -> dict[str, Any]:
        converted: dict[str, Any] = {
            "openapi": OPENAPI_VERSION,
            "info": _object(self.document.get("info", {}), "info"),
        }
        servers = self.servers()
        if servers:
            converted["servers"] = servers
        converted["paths"] = self.paths()
        components = self.components()
        if components:
            converted["components"] = components
        for key in ("security", "tags", "externalDocs"):
            if key in self.document:
                converted[key] = self.document[key]
        for key, value in self.document.items():
            if key.startswith("x-"):
                converted[key] = value
        return converted


def convert(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.0 form of a Swagger 2.0 ``document``; a refusal naming the part that is malformed."""
    version = document.get("swagger")
    if version != "2.0":
        raise InvalidDescription(
            f"this is a Swagger {str(version)[:20]} description: Swagger 2.0 is converted, OpenAPI 3.x read"
        )
    if not isinstance(document.get("paths"), dict):
        raise InvalidDescription("the 'paths' object is missing: there are no operations to import")
    return _Converter(document).convert()
