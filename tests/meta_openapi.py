"""Meta's OpenAPI document as the judge of every body the app sends: the validator lives in
devhost/meta_openapi.py, where the WhatsApp sandbox uses it too; the tests import it from here."""

from devhost.meta_openapi import (
    BASE_URI,
    DOCUMENT,
    EXTENSIONS,
    READ_RECEIPT_REF,
    SCHEMAS,
    SEND_PATH,
    Json,
    MetaRefuses,
    assert_meta_accepts,
    discriminator_mapping,
    document,
    problems,
    raw_document,
    send_examples,
    send_request_schema_ref,
    validator_for,
)

__all__ = [
    "BASE_URI",
    "DOCUMENT",
    "EXTENSIONS",
    "READ_RECEIPT_REF",
    "SCHEMAS",
    "SEND_PATH",
    "Json",
    "MetaRefuses",
    "assert_meta_accepts",
    "discriminator_mapping",
    "document",
    "problems",
    "raw_document",
    "send_examples",
    "send_request_schema_ref",
    "validator_for",
]
