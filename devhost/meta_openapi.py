"""Meta's OpenAPI document as the judge of every body sent to `/{Phone-Number-ID}/messages`.

The WhatsApp sandbox refuses what it finds here (so `make run` cannot drift from Meta), and the tests'
stand-ins for Meta check the app's bodies with it (tests/meta_openapi.py re-exports this module).

The document (tests/fixtures/meta-openapi, see SOURCE.md) is OpenAPI 3.1, so its schemas are JSON
Schema 2020-12, checked here with `jsonschema`, `$ref`s resolved with `referencing`. What makes it
usable as a validator:

- **One branch per type.** The request body is `#/components/schemas/Message`, a `oneOf` with a
  discriminator on `type`. Validating against the `oneOf` would only say "not valid under any of the
  given schemas"; the discriminator's `mapping` picks the one schema for the body's `type`, so an error
  names the field that is wrong.
- **`allOf` merged.** Each message schema is `allOf: [BaseMessageProperties, {additionalProperties:
  false, properties: {type, <type>}}]`. In JSON Schema every `allOf` branch sees the whole body, so that
  `additionalProperties: false` would refuse the base's own fields (`messaging_product`, `to`, ...),
  and Meta's own examples would fail. OpenAPI means inheritance, so every `allOf` in the document is
  merged into one object schema before validating: `properties` and `required` united (a property
  defined twice must satisfy both definitions), `additionalProperties` kept, any other keyword of a
  branch kept under `allOf` (a parent's `discriminator` is not inherited: the child is one of its
  branches).
- **Nested discriminators honoured.** JSON Schema ignores OpenAPI's `discriminator`, so a template's
  components and parameters (`TemplateComponent`, `ParameterObject`, `ButtonParameterObject`) would be
  checked only for their `type`. Each `mapping` entry becomes an `if type is X then <X's schema>`, so a
  `text` parameter needs its `text`, an `image` one an `image` with an `id` or a `link`.
- **Corrections, each with its source, and nothing else loosened:**
  - `recipient`, a business-scoped user id, which a send may carry instead of `to` (WHATSAPP-NOTES.md
    §0, [BSUID]: "Send requests address a BSUID ... with a separate `recipient` field, not `to`; if
    both are present, `to` wins"), so `to` becomes required unless `recipient` is given; and
    `biz_opaque_callback_data`, which status webhooks echo back from the send (§3.5, [STATUS]), at most
    512 characters as on the Calling API (§5, [OPENAPI]). Neither is in the v23 document.
  - A template's `language.policy` is optional: the document requires it, yet its own examples ("Send
    Test Message", "Send Message Template Text", "... Media", "... Interactive") send `{"code": ...}`
    alone, as Meta's guides do; `deterministic` is its only value.
  - A template button's `index` is one digit, 0 to 9: the document's pattern `^[2-6, 11-14]$` is a
    character class that refuses "0", while its description says "Position index of the button (0-9)"
    and its own examples send "0" and "1".
  - A text parameter may carry `parameter_name`, as templates with named parameters need (Meta's
    "Template fundamentals", https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/overview,
    `parameter_format: NAMED`): lowercase letters, digits and underscores.
  - Marking a message as read, with or without a typing indicator, is a body without `type` that the
    `Message` schema cannot describe; the document has only its example ("Send typing indicator and
    read receipt"), so `ReadReceipt` below is that example's shape, as Meta's mark-as-read and typing
    indicator guides describe it ([MARK-READ], [TYPING]).

The 1 MB YAML is parsed once per process.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML comes with schemathesis, without stubs
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

Json = dict[str, Any]

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "tests" / "fixtures" / "meta-openapi" / "business-messaging-api_v23.0.yaml"
BASE_URI = "urn:meta:business-messaging-api:v23.0"
SEND_PATH = "/{Version}/{Phone-Number-ID}/messages"
SCHEMAS = "#/components/schemas/"
# Ours, not Meta's: the schema of a read receipt (and typing indicator), from Meta's example of one.
READ_RECEIPT_REF = SCHEMAS + "ReadReceipt"

# Not in the v23 document; see the module docstring for where Meta documents them.
EXTENSIONS: Json = {
    "recipient": {
        "type": "string",
        "description": "A business-scoped user id (or parent id); `to` wins when both are given. [BSUID]",
    },
    "biz_opaque_callback_data": {
        "type": "string",
        "maxLength": 512,
        "description": "Echoed in the message's status webhooks. [STATUS]",
    },
}
PARAMETER_NAME: Json = {
    "type": "string",
    "pattern": "^[a-z0-9_]+$",
    "description": "The variable a NAMED template's parameter fills ({{first_name}}). [TEMPLATES]",
}
BUTTON_INDEX_PATTERN = "^[0-9]$"
READ_RECEIPT: Json = {
    "type": "object",
    "description": "Mark a message read, optionally showing a typing indicator. [MARK-READ][TYPING]",
    "additionalProperties": False,
    "required": ["messaging_product", "status", "message_id"],
    "properties": {
        "messaging_product": {"type": "string", "enum": ["whatsapp"]},
        "status": {"type": "string", "enum": ["read"]},
        "message_id": {"type": "string", "minLength": 1},
        "typing_indicator": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {"type": {"type": "string", "enum": ["text"]}},
        },
    },
}


class MetaRefuses(AssertionError):
    """The body is not what Meta's OpenAPI document describes."""


@cache
def raw_document() -> Json:
    """Meta's document as published (parsed once; the C loader when PyYAML has it)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with DOCUMENT.open("rb") as source:
        document: Json = yaml.load(source, Loader=loader)  # noqa: S506 - a safe loader either way
    return document


def _schema(document: Json, ref: str) -> Json:
    if not ref.startswith(SCHEMAS):
        raise ValueError(f"only local schema references are expected here, not {ref}")
    found: Json = document["components"]["schemas"][ref.removeprefix(SCHEMAS)]
    return found


# Keywords a merged branch contributes itself, rather than under the merged schema's `allOf`.
_MERGED_KEYWORDS = {"properties", "required", "additionalProperties", "type", "description", "example"}


def _merge_all_of(schema: Json, document: Json, seen: frozenset[str] = frozenset()) -> Json:
    """One object schema for `allOf` branches meant as inheritance (see the module docstring)."""
    merged: Json = {k: v for k, v in schema.items() if k != "allOf"}
    properties: Json = dict(merged.pop("properties", {}))
    required: list[str] = list(merged.pop("required", []))
    rest: list[Json] = []
    for branch in schema["allOf"]:
        inherited = "$ref" in branch and set(branch) <= {"$ref", "description"}
        if inherited:
            ref = branch["$ref"]
            if ref in seen:
                raise ValueError(f"allOf cycle through {ref}")
            branch = _schema(document, ref)
            if "allOf" in branch:
                branch = _merge_all_of(branch, document, seen | {ref})
        for name, definition in branch.get("properties", {}).items():
            properties[name] = {"allOf": [properties[name], definition]} if name in properties else definition
        required += [name for name in branch.get("required", []) if name not in required]
        if "additionalProperties" in branch:
            merged["additionalProperties"] = branch["additionalProperties"]
        if branch.get("type") is not None:
            merged.setdefault("type", branch["type"])
        skipped = _MERGED_KEYWORDS | ({"discriminator"} if inherited else set())
        leftover = {k: v for k, v in branch.items() if k not in skipped}
        if leftover:
            rest.append(leftover)
    merged["properties"] = properties
    if required:
        merged["required"] = required
    if rest:
        merged["allOf"] = rest
    return merged


def _merged_everywhere(node: Any, document: Json) -> Any:
    if isinstance(node, list):
        return [_merged_everywhere(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    if "allOf" in node:
        node = _merge_all_of(node, document)
    return {key: _merged_everywhere(value, document) for key, value in node.items()}


def _dispatched_everywhere(node: Any) -> Any:
    """Every `discriminator` with a `mapping` also checks the schema its value names (docstring)."""
    if isinstance(node, list):
        return [_dispatched_everywhere(item) for item in node]
    if not isinstance(node, dict):
        return node
    found = {key: _dispatched_everywhere(value) for key, value in node.items()}
    discriminator = found.get("discriminator")
    if isinstance(discriminator, dict) and discriminator.get("mapping"):
        name = discriminator["propertyName"]
        found["allOf"] = [
            *found.get("allOf", []),
            *(
                {"if": {"properties": {name: {"const": value}}, "required": [name]}, "then": {"$ref": ref}}
                for value, ref in discriminator["mapping"].items()
            ),
        ]
    return found


def _with_extensions(document: Json) -> Json:
    """Meta's document with the corrections of the module docstring."""
    extended = copy.deepcopy(document)
    schemas = extended["components"]["schemas"]
    base = schemas["BaseMessageProperties"]
    base["properties"].update(EXTENSIONS)
    base["required"] = [name for name in base["required"] if name != "to"]
    base["anyOf"] = [{"required": ["to"]}, {"required": ["recipient"]}]
    schemas["LanguageObject"]["required"] = ["code"]
    schemas["TemplateComponent"]["properties"]["index"]["pattern"] = BUTTON_INDEX_PATTERN
    for branch in schemas["ButtonComponent"]["allOf"]:
        index = branch.get("properties", {}).get("index")
        if index is not None:
            index["pattern"] = BUTTON_INDEX_PATTERN
    schemas["TextParameter"]["allOf"][1]["properties"]["parameter_name"] = PARAMETER_NAME
    schemas[READ_RECEIPT_REF.removeprefix(SCHEMAS)] = READ_RECEIPT
    return extended


@cache
def document() -> Json:
    """The document the validators use: extended, every `allOf` merged, every discriminator honoured."""
    extended = _with_extensions(raw_document())
    merged: Json = _dispatched_everywhere(_merged_everywhere(extended, extended))
    return merged


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = DRAFT202012.create_resource(document())
    registry: Registry[Any] = Registry().with_resource(BASE_URI, resource)
    return registry


def send_request_schema_ref() -> str:
    """Where the send endpoint's request body points (checked, so a renamed schema fails loudly)."""
    body = raw_document()["paths"][SEND_PATH]["post"]["requestBody"]["content"]["application/json"]
    ref: str = body["schema"]["$ref"]
    return ref


def discriminator_mapping() -> Mapping[str, str]:
    """`type` value -> the schema Meta describes for it, from `Message`'s discriminator."""
    message = _schema(raw_document(), send_request_schema_ref())
    discriminator = message["discriminator"]
    assert discriminator["propertyName"] == "type"
    mapping: dict[str, str] = discriminator["mapping"]
    return mapping


@cache
def validator_for(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": BASE_URI + ref}, registry=_registry())


def send_examples() -> dict[str, Json]:
    """Meta's own example request bodies for the send endpoint, by name."""
    body = raw_document()["paths"][SEND_PATH]["post"]["requestBody"]["content"]["application/json"]
    return {name: example["value"] for name, example in body["examples"].items()}


def problems(body: object) -> list[str]:
    """What Meta's document finds wrong with a send body (a message, or a read receipt with or without
    a typing indicator), each as `where: what`; empty when Meta's document describes it."""
    if not isinstance(body, dict):
        return [f"the body must be a JSON object, not {type(body).__name__}"]
    kind = body.get("type")
    if kind is None and "status" in body:
        ref = READ_RECEIPT_REF
    else:
        mapping = discriminator_mapping()
        if not isinstance(kind, str) or kind not in mapping:
            return [f"type: {kind!r} is not one of Meta's message types ({', '.join(sorted(mapping))})"]
        ref = mapping[kind]
    errors = validator_for(ref).iter_errors(body)
    return [_describe(error) for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])]


def _describe(error: Any) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(body)"
    details = "".join(f"; {_describe(sub)}" for sub in _leaves(error.context or []))
    return f"{where}: {error.message}{details}"


def _leaves(errors: list[Any]) -> Iterator[Any]:
    for error in errors:
        if error.context:
            yield from _leaves(error.context)
        else:
            yield error


def assert_meta_accepts(body: object) -> None:
    """Raises MetaRefuses with every problem when Meta's document does not describe this body."""
    found = problems(body)
    if found:
        raise MetaRefuses("Meta's OpenAPI document refuses this send body:\n  " + "\n  ".join(found))
