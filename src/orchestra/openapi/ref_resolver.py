"""Inline the local ``$ref``s of an OpenAPI document, so consumers see plain, self-contained schemas.

- Only local references (``#/components/schemas/Pet``, any JSON pointer into the same document) are
  followed; an external one (``other.yaml#/Pet``, ``https://...``) is refused with a clear problem, since
  fetching further files on a user's behalf is not something an import should do silently.
- A recursive schema (a ``Node`` whose ``children`` are ``Node``s) cannot be inlined completely. Each
  reference may appear at most ``MAX_REF_REPEATS`` times on one path from the root; beyond that the place
  is cut and becomes ``{}`` (any value). A generator therefore produces a bounded tree (``Node`` → children
  ``Node`` → children ``{}``), which is all test data needs.
- Schemas that refer to each other (``User`` → ``Role`` → ``Policy`` → ``User`` … as a CMS describes
  its system collections) multiply without any single one repeating: a reference nested inside
  ``MAX_REF_CHAIN`` others is cut the same way, so such a description stays importable.
- Sibling keywords beside a ``$ref`` (allowed in OpenAPI 3.1, e.g. a ``description``) are laid over the
  inlined target.
- A reference that leads only through references back to itself (``A`` is ``$ref B``, ``B`` is
  ``$ref A``) describes nothing and is refused.
- Inlining can multiply a document's size (a schema used twice in one used twice in another ...), so the
  number of inlined nodes is bounded (``MAX_NODES``); beyond it the description is refused as too large.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from orchestra.openapi.errors import DescriptionTooLarge, InvalidDescription

MAX_REF_REPEATS = 2
MAX_REF_CHAIN = 4  # references inlined one inside another on one path; deeper ones become {}
MAX_NODES = 500_000
MAX_DEPTH = 200


class RefResolver:
    """Resolves the references of one document; shares the node budget across everything it resolves."""

    def __init__(self, document: dict[str, Any], *, max_nodes: int = MAX_NODES) -> None:
        self.document = document
        self.nodes_left = max_nodes
        self.max_nodes = max_nodes

    def resolve(self, value: Any) -> Any:
        """A copy of ``value`` with every ``$ref`` inlined (see the module docstring)."""
        return self._resolve(value, (), 0)

    def target(self, ref: str) -> Any:
        """What a local reference points to, unresolved."""
        if not isinstance(ref, str):
            raise InvalidDescription(f"a $ref must be a string, not {type(ref).__name__}")
        if not ref.startswith("#"):
            raise InvalidDescription(
                f"external $ref {ref[:200]!r} is not supported: bundle the description into one document"
            )
        node: Any = self.document
        pointer = unquote(ref[1:])
        if pointer and not pointer.startswith("/"):
            raise InvalidDescription(f"$ref {ref[:200]!r} is not a JSON pointer (expected '#/...')")
        for raw in pointer.split("/")[1:] if pointer else []:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise InvalidDescription(f"$ref {ref[:200]!r} points to nothing in the document")
        return node

    def _refuse_alias_cycle(self, ref: str, target: Any) -> None:
        """A reference whose target is only a reference, and so on back to the first one, describes
        nothing at all (unlike a recursive schema, which has structure between its repetitions)."""
        chain = [ref]
        while isinstance(target, dict) and "$ref" in target and len(chain) <= MAX_DEPTH:
            following = target["$ref"]
            if following in chain:
                shown = " -> ".join(part[:100] for part in [*chain, following][-6:])
                raise InvalidDescription(f"$ref cycle: {shown} refers back to itself and describes nothing")
            chain.append(following)
            target = self.target(following)

    def _spend(self) -> None:
        self.nodes_left -= 1
        if self.nodes_left < 0:
            raise DescriptionTooLarge(
                f"the description expands to more than {self.max_nodes} nodes once its $refs are inlined"
            )

    def _resolve(self, value: Any, chain: tuple[str, ...], depth: int) -> Any:
        self._spend()
        if depth > MAX_DEPTH:
            return {}
        if isinstance(value, list):
            return [self._resolve(item, chain, depth + 1) for item in value]
        if not isinstance(value, dict):
            return value
        if "$ref" in value:
            ref = value["$ref"]
            target = self.target(ref)
            self._refuse_alias_cycle(ref, target)
            if chain.count(ref) >= MAX_REF_REPEATS or len(chain) >= MAX_REF_CHAIN:
                return {}  # a recursive schema (or a long chain of them), cut here: any value
            inlined = self._resolve(target, (*chain, ref), depth + 1)
            siblings = {key: item for key, item in value.items() if key != "$ref"}
            if not siblings:
                return inlined
            merged = dict(inlined) if isinstance(inlined, dict) else {}
            merged.update(self._resolve(siblings, chain, depth + 1))
            return merged
        return {key: self._resolve(item, chain, depth + 1) for key, item in value.items()}


def resolve_refs(document: dict[str, Any], value: Any) -> Any:
    """``value`` (a part of ``document``) with its local ``$ref``s inlined."""
    return RefResolver(document).resolve(value)
