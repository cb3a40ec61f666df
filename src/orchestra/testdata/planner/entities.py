"""Reading entities out of an API description: which operation creates a customer, which deletes it, which
field of its response is its id, which operation issues a token. Conventions over configuration: REST paths
(``POST /customers``, ``DELETE /customers/{customerId}``), operationIds (``createCustomer``) and tags."""

from __future__ import annotations

import re

from orchestra.openapi.operations import Catalogue, JsonSchema, Operation
from orchestra.testdata.values.generator import merge_all_of
from orchestra.testdata.values.name_hints import referenced_entity, snake

TOKEN_FIELDS = ("access_token", "token", "accessToken", "id_token", "jwt")
_CREATE_VERBS = ("create", "add", "new", "post", "register", "insert")
# Last path segments and first words of operationIds of POSTs that read, check or compute (they create
# nothing).
_QUERY_WORDS = frozenset(
    {
        *("search", "query", "find", "filter", "lookup", "validate", "validation", "verify", "check"),
        *("preview", "calculate", "estimate", "count", "logout", "signout", "refresh", "introspect"),
    }
)


def singular(word: str) -> str:
    word = word.lower()
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 1:
        return word[:-1]
    return word


def static_segments(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part and not part.startswith("{")]


def entity_of(operation: Operation) -> str:
    """The entity an operation is about, in snake case: ``/customers/{id}/orders`` → ``order``."""
    segments = static_segments(operation.path)
    if segments:
        return snake(singular(re.sub(r"[^A-Za-z0-9_]", "_", segments[-1])))
    return snake(operation.operation_id)


def properties_of(schema: JsonSchema | None) -> dict[str, JsonSchema]:
    if not isinstance(schema, dict):
        return {}
    properties = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        properties.update(properties_of(part))
    return properties


def object_schema(schema: JsonSchema | None) -> JsonSchema | None:
    """A body schema as one object's (``allOf`` merged, an ``anyOf``/``oneOf`` of one schema read as that
    schema); None when it describes no object."""
    if not isinstance(schema, dict):
        return None
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and len(options) == 1 and isinstance(options[0], dict):
            schema = {**{k: v for k, v in schema.items() if k != key}, **options[0]}
    merged = merge_all_of(schema) if "allOf" in schema else schema
    return merged if "properties" in merged or merged.get("type") == "object" else None


def token_field(operation: Operation) -> str | None:
    """The field of the response that holds a token, when the operation issues one: a documented token
    field, or — for an undocumented response of a POST named like a token or login endpoint — the OAuth 2
    convention ``access_token``."""
    properties = properties_of(operation.success_schema())
    found = next((name for name in TOKEN_FIELDS if name in properties), None)
    if found is not None or properties or operation.method != "POST":
        return found
    named = f"{operation.operation_id} {operation.path}".lower()
    return "access_token" if any(word in named for word in ("token", "login", "signin", "sign_in")) else None


def is_collection_post(operation: Operation) -> bool:
    return operation.method == "POST" and not operation.path.rstrip("/").endswith("}")


def is_collection_put(catalogue: Catalogue, operation: Operation) -> bool:
    """A PUT on a collection whose items can be deleted (``PUT /saved_searches/`` beside ``DELETE
    /saved_searches/{id}``): a create-or-replace, creating what it names."""
    return (
        operation.method == "PUT"
        and not operation.path.rstrip("/").endswith("}")
        and deleter_of(catalogue, operation) is not None
    )


def producer_of(catalogue: Catalogue, entity: str) -> Operation | None:
    """The operation that creates an ``entity``: a POST on its collection (``POST /customers``), else one
    named ``create<Entity>``, else a POST tagged with it, else a PUT on its collection that has a DELETE for
    its items. Token endpoints never count."""
    wanted = entity.replace("_", "")
    candidates = [
        op for op in catalogue.operations.values() if is_collection_post(op) and token_field(op) is None
    ]
    by_path = [op for op in candidates if entity_of(op) == entity]
    if by_path:
        # One that describes what it makes first: ``POST /deployments/{id}/schedules`` answers schedules,
        # the shorter ``POST /deployments/{id}/schedule`` (an action) answers nothing described.
        chosen = min(by_path, key=lambda op: (not resource_of(op)[1], len(op.path), op.path))
        return _naming_its_parent(catalogue, chosen, candidates) or chosen
    for op in candidates:
        lowered = op.operation_id.lower()
        if any(lowered == verb + wanted for verb in _CREATE_VERBS):
            return op
    for op in candidates:
        if any(singular(snake(tag)).replace("_", "") == wanted for tag in op.tags) and not _answers_list(op):
            return op
    puts = [op for op in catalogue.operations.values() if is_collection_put(catalogue, op)]
    return next((op for op in puts if entity_of(op) == entity), None)


def parent_left_to_server(catalogue: Catalogue, operation: Operation) -> str | None:
    """The entity an item made by ``operation`` belongs to when the request cannot name it: the answer has
    ``<parent>_id`` or ``<parent>_name`` of an entity the description creates and deletes, and neither the
    path nor the body names a ``<parent>`` (``POST /work_queues/`` answers ``work_pool_id``, its body has no
    pool). The SUT then picks one, or makes one the plan knows nothing of. Only for a creation at the top
    of the API (no path parameter, not a search, one item answered): a creation below an item takes what it
    belongs to from that item. None otherwise."""
    if (
        not is_collection_post(operation)
        or "{" in operation.path
        or is_query_post(operation)
        or listed_item(answer_schema(operation)) is not None
    ):
        return None
    _, answered = resource_of(operation)
    sent = {snake(name) for name in properties_of(operation.request_schema)}
    sent |= {snake(parameter.name) for parameter in operation.parameters if parameter.location == "path"}
    for name in answered:
        key = snake(name)
        parent = next((key[: -len(end)] for end in ("_id", "_name") if key.endswith(end)), None)
        if not parent or parent == entity_of(operation) or any(s.startswith(parent + "_") for s in sent):
            continue
        producer = _own_producer(catalogue, parent)
        if producer is not None and producer is not operation and deleter_of(catalogue, producer) is not None:
            return parent
    return None


def _own_producer(catalogue: Catalogue, entity: str) -> Operation | None:
    """The POST on the entity's own collection (``POST /work_pools/`` for ``work_pool``)."""
    found = [
        op
        for op in catalogue.operations.values()
        if is_collection_post(op) and token_field(op) is None and entity_of(op) == entity
    ]
    return min(found, key=lambda op: (len(op.path), op.path)) if found else None


def _naming_its_parent(
    catalogue: Catalogue, chosen: Operation, candidates: list[Operation]
) -> Operation | None:
    """For a creation that leaves the item's parent to the SUT (``parent_left_to_server``), another creation
    of the same representation whose path names that parent (``POST /work_pools/{work_pool_name}/queues``
    answers a work queue as ``POST /work_queues/`` does): the plan then creates the parent itself, so it is
    in the ledger and deleted after the item, instead of one the SUT would make on its own."""
    parent = parent_left_to_server(catalogue, chosen)
    if parent is None:
        return None
    answer = answer_schema(chosen)
    for op in sorted(candidates, key=lambda op: (len(op.path), op.path)):
        named = {snake(p.name) for p in op.parameters if p.location == "path"}
        if (
            op is not chosen
            and answer_schema(op) == answer
            and any(n.startswith(parent + "_") for n in named)
            and deleter_of(catalogue, op) is not None
        ):
            return op
    return None


def is_array(schema: JsonSchema | None) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "array"


def _answers_list(operation: Operation) -> bool:
    """Whether the operation answers an array (a search or a listing: it creates nothing)."""
    return is_array(operation.success_schema())


def deleter_of(catalogue: Catalogue, producer: Operation) -> tuple[Operation, str] | None:
    """The DELETE on the item path below the producer's collection, and the path parameter naming the
    item: ``DELETE /customers/{customerId}`` for ``POST /customers``."""
    collection = producer.path.rstrip("/")
    for op in catalogue.operations.values():
        if op.method != "DELETE":
            continue
        match = re.fullmatch(re.escape(collection) + r"/\{([^/{}]+)\}/?", op.path)
        if match:
            return op, match.group(1)
    return None


def undoer_of(catalogue: Catalogue, producer: Operation) -> tuple[Operation, str | None] | None:
    """The operation that undoes what ``producer`` made, and the path parameter naming the made item (None
    when the undo takes the creation's own path parameters):

    - the DELETE on the item path below the producer's collection (``POST /customers`` →
      ``DELETE /customers/{customerId}``);
    - the DELETE on the producer's own path, for an action or a sub-resource of an item
      (``POST /articles/{slug}/favorite`` → ``DELETE /articles/{slug}/favorite``, ``PUT /user/starred/{repo}``
      → ``DELETE /user/starred/{repo}``) or a singular resource (``POST /session/lock``). Never for a plain
      collection (``DELETE /articles`` may delete every article)."""
    found = deleter_of(catalogue, producer)
    if found is not None:
        return found
    path = producer.path.rstrip("/")
    segments = static_segments(path)
    on_item = "{" in path
    singular_last = bool(segments) and singular(segments[-1]) == segments[-1].lower()
    if not (on_item or singular_last):
        return None
    for op in catalogue.operations.values():
        if op.method == "DELETE" and op.path.rstrip("/") == path:
            return op, None
    return None


def getter_of(catalogue: Catalogue, operation: Operation) -> Operation | None:
    """The GET on the same path as ``operation`` (what reads back the resource it changes)."""
    path = operation.path.rstrip("/")
    for op in catalogue.operations.values():
        if op.method == "GET" and op.path.rstrip("/") == path:
            return op
    return None


def is_query_post(operation: Operation) -> bool:
    """A POST that reads or checks rather than creates (``POST /search``, ``POST /orders/validate``),
    judged by its last path segment or its operationId's first word; or one whose description says it
    reads without a word of writing (``reads_by_description``)."""
    segments = static_segments(operation.path)
    last = segments[-1].lower() if segments else ""
    first = words(operation.operation_id)[:1]
    return last in _QUERY_WORDS or bool(first and first[0] in _QUERY_WORDS) or reads_by_description(operation)


def reads_by_description(operation: Operation) -> bool:
    """Whether a POST only reads what exists, as its description tells it, though neither its last path
    segment nor its operationId's first word is a word of searching (``POST /flows/paginate``, ``POST
    /runs/history``, "Average Run Lateness" described as "Query for ..."). It reads when

    - its summary, its operationId or its description's first sentence begins with a verb of reading
      (``read``, ``get``, ``list``, ``query``, ``paginate``, ...), its last path segment is one
      (``history``, ``page``), or its body is made only of filters, sorting and paging (``flows:
      FlowFilter``, ``sort``, ``limit``, ``offset``);
    - and nothing says it writes: no verb of writing begins its summary, operationId or description
      (``create``, ``bulk``, ``delete``, ``increment``, ``install``, ...) nor is a word of its summary,
      it documents no ``201 Created``, ``202 Accepted`` or ``204 No Content`` (a read answers what it
      read), and it does not answer one identified item (what a creation answers: an object with an
      ``id``).

    Reading a creation as a read would leave what it made in the SUT, so every doubt keeps it a creation."""
    if operation.method != "POST" or {"201", "202", "204"} & set(operation.responses):
        return False
    leading = [found[0] for found in map(words, _descriptions(operation)) if found]
    if any(word in _WRITE_WORDS for word in leading):
        return False
    if any(word in _WRITE_WORDS for word in _own_words(operation)):
        return False
    if answers_an_item(operation):
        return False
    segments = static_segments(operation.path)
    last = words(segments[-1]) if segments else []
    return (
        any(word in _READ_WORDS for word in leading)
        or bool(last and last[-1] in _READ_SEGMENTS)
        or _only_filters(operation.request_schema)
    )


# Verbs that begin the description of an operation that only reads (``read_flows``, "Get the next run").
_READ_WORDS = frozenset(
    {
        *("read", "get", "list", "query", "search", "find", "filter", "count", "fetch", "retrieve"),
        *("paginate", "lookup", "browse"),
    }
)
# Last path segments of a POST that answers a reading of what exists (``/runs/history``).
_READ_SEGMENTS = frozenset({"paginate", "page", "pages", "history", "counts", "stats", "statistics"})
# Verbs of a POST that writes: one of them leading its description, or anywhere in its summary, keeps it
# a creation (or an action) whatever else it says.
_WRITE_WORDS = frozenset(
    {
        *("create", "creates", "add", "adds", "new", "insert", "register", "upsert", "import", "install"),
        *("bulk", "delete", "deletes", "remove", "update", "updates", "set", "reset", "increment"),
        *("decrement", "schedule", "pause", "resume", "renew", "cancel", "send", "submit", "trigger"),
        *("execute", "apply", "generate", "upload", "save", "write", "record", "clear", "drop", "sync"),
        *("merge", "copy", "clone", "move", "start", "stop", "enable", "disable", "archive", "restore"),
        *("mark", "assign", "approve", "reject", "invite", "lock", "unlock", "publish", "claim", "acquire"),
        *("release", "heartbeat", "make", "build", "store", "post", "put", "patch", "replace", "edit"),
        *("modify", "export", "invoke", "notify", "deploy", "duplicate", "transfer", "convert"),
    }
)
# Body properties that only choose, order or page what is read.
_FILTER_NAMES = frozenset(
    {
        *("filter", "filters", "where", "sort", "sort_by", "order", "order_by", "limit", "offset"),
        *("page", "page_size", "per_page", "cursor", "after", "before", "q", "query", "search", "fields"),
    }
)


def words(text: str) -> list[str]:
    """The lower-case words of an identifier or a sentence (``readFlows``, ``read_flows``, "Read flows")."""
    return [word.lower() for word in re.split(r"(?<=[a-z0-9])(?=[A-Z])|[^A-Za-z0-9]+", text) if word]


def _own_words(operation: Operation) -> list[str]:
    """The words of the summary, and those of the operationId that do not merely repeat its path or
    method (``read_flow_run_history_ui_flow_runs_history_post`` → ``read``, ``flow``, ``run``)."""
    repeated = {word for segment in static_segments(operation.path) for word in words(segment)}
    repeated.add(operation.method.lower())
    own = [word for word in words(operation.operation_id) if word not in repeated]
    return [*words(operation.summary), *own]


def _descriptions(operation: Operation) -> list[str]:
    """The operation's summary, its operationId and the first sentence of its description."""
    sentence = re.split(r"(?<=[.!?])\s|\n", operation.description.strip(), maxsplit=1)[0]
    return [operation.summary, operation.operation_id, sentence]


def answers_an_item(operation: Operation) -> bool:
    """Whether a success answer is one object with an identifier (through a single-key envelope)."""
    schema = object_schema(answer_schema(operation))
    if schema is None:
        return False
    key = envelope_key(schema)
    properties = properties_of(properties_of(schema)[key]) if key else properties_of(schema)
    return any(snake(name) in ("id", "uuid") for name in properties)


def _only_filters(schema: JsonSchema | None) -> bool:
    """Whether a request body is an object of filters, sorting and paging only (at least one filter)."""
    merged = object_schema(schema)
    properties = properties_of(merged)
    return bool(properties) and all(_is_filter(name, sub) for name, sub in properties.items())


def _is_filter(name: str, schema: JsonSchema) -> bool:
    key = snake(name)
    if key in _FILTER_NAMES or key.endswith(("_filter", "_filters", "_sort")):
        return True
    titles = [schema.get("title")] + [
        part.get("title") for part in schema.get("anyOf") or [] if isinstance(part, dict)
    ]
    return any(isinstance(title, str) and title.endswith(("Filter", "Sort")) for title in titles)


def envelope_key(schema: JsonSchema | None) -> str | None:
    """The one property of a single-key envelope (``{"article": {...}}``): an object whose only property is
    itself an object with properties. None for a bare resource."""
    properties = properties_of(schema)
    if len(properties) != 1:
        return None
    key, inner = next(iter(properties.items()))
    return key if isinstance(inner, dict) and properties_of(inner) else None


def answer_schema(operation: Operation) -> JsonSchema | None:
    """The schema of what an operation answers on success: its first documented 2xx response's, or — when
    it documents no 2xx response at all — its ``default`` response's (``default: successful operation``)."""
    schema = operation.success_schema()
    if schema is None and not operation.success_statuses():
        return operation.responses.get("default")
    return schema


def listed_item(schema: JsonSchema | None) -> JsonSchema | None:
    """The item schema of an answer that is a list of objects (a bulk creation answers what it made:
    ``POST /deployments/{id}/schedules`` → ``[{"id": …}]``); None for any other answer."""
    if not isinstance(schema, dict) or schema.get("type") != "array":
        return None
    items = schema.get("items")
    return items if isinstance(items, dict) and properties_of(items) else None


def bulk_item(operation: Operation) -> JsonSchema | None:
    """The schema of one item a bulk creation takes, when it takes a list of objects and answers a list of
    objects (what it made); None otherwise. An answer listing more than the request's items (the whole
    collection after an addition) cannot be told apart from the schema, so only a list sent for a list
    answered counts."""
    schema = operation.request_schema
    if not isinstance(schema, dict) or schema.get("type") != "array":
        return None
    item = schema.get("items")
    if not isinstance(item, dict) or not properties_of(item) or listed_item(answer_schema(operation)) is None:
        return None
    return item


def resource_of(operation: Operation) -> tuple[str | None, dict[str, JsonSchema]]:
    """The envelope key (None without one) and the properties of the resource an operation answers. A bulk
    creation's answer is read as its first item (key ``0``): a plan sends it one item, so the answer lists
    the one item it made."""
    schema = answer_schema(operation)
    if bulk_item(operation) is not None:
        return "0", properties_of(listed_item(schema))
    key = envelope_key(schema)
    if key is None:
        return None, properties_of(schema)
    return key, properties_of(properties_of(schema)[key])


def field_path(key: str | None, name: str) -> str:
    """A field of the resource as a dotted path from the response's root (``article.slug``)."""
    return f"{key}.{name}" if key else name


def _plain(name: str) -> str:
    return snake(name).replace("_", "")


def field_for(operation: Operation, parameter: str, entity: str | None = None) -> str | None:
    """The field of the resource ``operation`` answers that fills a path ``parameter``, as a dotted path
    through its envelope: the field of that name (``slug``; camel and snake case alike, ``commentId`` ↔
    ``comment_id``), else ``{<entity>_<field>}`` of the resource's own entity (``{work_pool_name}`` → its
    ``name``), else — for ``{id}`` or ``{<entity>Id}`` of the resource's own entity — its id.
    None when the resource has no such field. A parameter naming alternatives (``{id_or_name}``) takes
    the first the resource has."""
    if "_or_" in snake(parameter):
        alternatives = (field_for(operation, part, entity) for part in snake(parameter).split("_or_") if part)
        return next((found for found in alternatives if found is not None), None)
    key, properties = resource_of(operation)
    wanted = _plain(parameter)
    for name in properties:
        if _plain(name) == wanted:
            return field_path(key, name)
    own = entity or entity_of(operation)
    names = {own, singular(own)}
    if key is not None:
        names |= {snake(key), singular(snake(key))}
    for prefix in sorted(names, key=len, reverse=True):  # ``{work_pool_name}`` of a work pool: its ``name``
        if snake(parameter).startswith(prefix + "_"):
            rest = snake(parameter)[len(prefix) + 1 :]
            for name in properties:
                if _plain(name) == rest.replace("_", "") and rest not in ("id", "uuid", "key"):
                    return field_path(key, name)
    referred = referenced_entity(parameter)
    if parameter.lower() in ("id", "uuid", "key") or (referred is not None and referred in names):
        for name in ("id", "uuid", "key", f"{own}_id", f"{own}Id"):
            if name in properties:
                return field_path(key, name)
    return None


def id_field(operation: Operation) -> str:
    """The field of the created entity's representation that identifies it (``id`` when unsure), as a
    dotted path through a single-key envelope (``article.id``)."""
    key, properties = resource_of(operation)
    entity = entity_of(operation)
    for name in ("id", f"{entity}_id", f"{entity}Id", "uuid", "key"):
        if name in properties:
            return field_path(key, name)
    if _scalar(properties.get(entity)):  # a collection's ``collection``: its key, named after it
        return field_path(key, entity)
    return field_path(key, next((name for name in properties if snake(name).endswith("_id")), "id"))


def _scalar(schema: JsonSchema | None) -> bool:
    """A string or an integer (not an object, an array or a schema of neither)."""
    return isinstance(schema, dict) and schema.get("type") in ("string", "integer")
