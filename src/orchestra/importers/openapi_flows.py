"""Lifecycle flows: for each entity whose producer and item path are evident (``POST /items`` and
``GET /items/{item_id}``), one test that creates one, reads it, updates it (PUT, else PATCH), deletes it and
reads it again (when a 404 or 410 is documented), capturing its id, with the delete declared as the create
step's cleanup so that nothing is left behind when a step in between fails."""

from __future__ import annotations

from typing import Any

from orchestra.importers.openapi_checks import expectations
from orchestra.importers.openapi_writer import SuiteWriter, file_stem, id_variable, path_url
from orchestra.importers.requests import escape_template
from orchestra.openapi.operations import Operation
from orchestra.testdata.planner.entities import entity_of, id_field, is_collection_post, token_field
from orchestra.testdata.planner.plan_state import binding_name


def lifecycle_flows(writer: SuiteWriter) -> list[tuple[str, str, dict[str, Any]]]:
    """(file stem, what, definition) of each entity's lifecycle flow."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    operations = sorted(writer.catalogue.operations.values(), key=lambda op: (op.path, op.method))
    entities: set[str] = set()
    for producer in operations:
        if not is_collection_post(producer) or "{" in producer.path or token_field(producer) is not None:
            continue
        entity = entity_of(producer)
        item = writer.item_operations(producer)
        if "GET" not in item or entity in entities or producer.request_schema is None:
            continue
        entities.add(entity)
        flow = _flow(writer, entity, producer, item)
        if flow is not None:
            found.append((f"flow-{file_stem(entity)}", f"the {entity} lifecycle", flow))
    return found


def _flow(
    writer: SuiteWriter, entity: str, producer: Operation, item: dict[str, tuple[Operation, str]]
) -> dict[str, Any] | None:
    variable = id_variable(entity)
    credentials = writer.credentials(producer)

    def url(operation: Operation, parameter: str) -> str:
        return path_url(operation.path, {parameter: "{{ " + variable + " | urlencode }}"})

    create: dict[str, Any] = {
        "name": escape_template(f"create ({producer.operation_id})")[:200],
        "request": {
            "method": "POST",
            "url": path_url(producer.path, {}),
            "json": "{{ data." + binding_name(producer.operation_id) + ".body }}",
        },
        "expect": expectations(producer, writer.media(producer), writer.version),
        "capture": {variable: "$." + id_field(producer)},
    }
    steps = [create]
    reader, reader_id = item["GET"]
    steps.append(_flow_step(writer, "read", reader, url(reader, reader_id)))
    operations = [producer.operation_id]
    updater = item.get("PUT") or item.get("PATCH")
    if updater is not None and updater[0].request_schema is not None:
        update = _flow_step(writer, "update", updater[0], url(*updater))
        update["request"]["json"] = "{{ data." + binding_name(updater[0].operation_id) + ".body }}"
        steps.append(update)
        operations.append(updater[0].operation_id)
    if "DELETE" in item:
        deleter, deleter_id = item["DELETE"]
        create["cleanup"] = writer.cleanup(deleter, deleter_id, variable, credentials)
        steps.append(_flow_step(writer, "delete", deleter, url(deleter, deleter_id)))
        gone = [int(code) for code in ("404", "410") if code in reader.responses]
        if gone:
            steps.append(
                {
                    "name": escape_template(f"read after delete ({reader.operation_id})")[:200],
                    "request": {"method": "GET", "url": url(reader, reader_id)},
                    "expect": {"status": gone[0] if len(gone) == 1 else gone},
                }
            )
    verbs = ", ".join(
        verb
        for verb, present in (
            ("create", True),
            ("read", True),
            ("update", len(operations) > 1),
            ("delete", "DELETE" in item),
        )
        if present
    )
    return writer.test_case(
        f"{entity} lifecycle: {verbs}",
        f"Generated from the OpenAPI description {writer.label}: {verbs} one {entity} "
        f"({', '.join(op.operation_id for op, _ in item.values())}, {producer.operation_id}).",
        ["openapi", "flow", *producer.tags],
        operations,
        credentials,
        steps,
    )


def _flow_step(writer: SuiteWriter, verb: str, operation: Operation, url: str) -> dict[str, Any]:
    return {
        "name": escape_template(f"{verb} ({operation.operation_id})")[:200],
        "request": {"method": operation.method, "url": url},
        "expect": expectations(operation, writer.media(operation), writer.version),
    }
