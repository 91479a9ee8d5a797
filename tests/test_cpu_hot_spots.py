"""The webhook's CPU hot spots were rewritten for speed (issue 16, benchmarks/cpu.py); these pin the
behaviour they must keep: the same document ids, no default shared between models, one validation
per update, and the cold start's imports left for later where the webhook does not need them."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from pydantic import BaseModel

from shared.conversations.documents import document_id
from shared.whatsapp import webhook_models
from shared.whatsapp.webhook_models import (
    AccountUpdate,
    Contact,
    Message,
    MessagesValue,
    Metadata,
    Order,
    SharedContact,
    Status,
    UserPreference,
    WebhookPayload,
    read_webhook,
)

ROOT = Path(__file__).resolve().parent.parent
ESCAPES = {"%": "%25", "/": "%2F", "\\": "%5C", "?": "%3F", "#": "%23"}


def reference_document_id(raw: str) -> str:
    """The rule as first written: every forbidden character escaped, one character at a time."""
    return "".join(ESCAPES.get(ch, ch) for ch in raw)


TRICKY_IDS = [
    "",
    "wamid.HBgLMTU1NTAwMDAwMDEVAgASGBQzQTdGQjY0RjlBMTNFQzJCMjMwRgA=",
    "a/b",
    "a\\b",
    "what?",
    "#1",
    "100%",
    "%2F",  # already looks escaped: escaped again, so that unescaping gives it back
    "%%//??##\\\\",
    "receipt:wamid.x/y?z#w",
    "links:wamid.é/日本語",
    "/",
    "\\/?#%",
    "ends with a slash/",
    "\x00/\x7f",
]


@pytest.mark.parametrize("raw", TRICKY_IDS)
def test_document_ids_are_the_same_as_before(raw: str) -> None:
    assert document_id(raw) == reference_document_id(raw)


def test_document_ids_are_the_same_for_random_ids_and_can_be_read_back() -> None:
    generator = random.Random(16)
    alphabet = "ab0=+:._-%/\\?#é日 "
    for _ in range(5000):
        raw = "".join(generator.choice(alphabet) for _ in range(generator.randrange(0, 40)))
        escaped = document_id(raw)
        assert escaped == reference_document_id(raw)
        assert not set("/\\?#") & set(escaped)
        assert unquote(escaped) == raw


def test_an_id_without_forbidden_characters_is_returned_as_it_is() -> None:
    raw = "wamid.HBgLMTU1NTAwMDAwMDEVAgASGBQzQTdGQjY0RjlBMTNFQzJCMjMwRgA="
    assert document_id(raw) is raw


LIST_DEFAULTS: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (Message, {"id": "wamid.1", "timestamp": "1700000000"}, "errors"),
    (Status, {"id": "wamid.1", "status": "sent", "timestamp": "1700000000"}, "errors"),
    (MessagesValue, {"metadata": {"phone_number_id": "1"}}, "messages"),
    (MessagesValue, {"metadata": {"phone_number_id": "1"}}, "statuses"),
    (SharedContact, {}, "phones"),
    (Order, {}, "product_items"),
    (AccountUpdate, {}, "restriction_info"),
]


@pytest.mark.parametrize(("model", "data", "name"), LIST_DEFAULTS)
def test_list_defaults_are_new_for_every_instance(
    model: type[BaseModel], data: dict[str, Any], name: str
) -> None:
    first, second = model.model_validate(data), model.model_validate(data)
    assert getattr(first, name) == []
    assert getattr(first, name) is not getattr(second, name)
    getattr(first, name).append("changed")
    assert getattr(second, name) == []
    assert getattr(model.model_validate(data), name) == []
    field = model.model_fields[name]
    assert field.default_factory is list  # not a `[]` default pydantic deep-copies on every instance


def test_only_updates_carry_a_private_attribute() -> None:
    """pydantic initialises private attributes after validating each instance, which costs more than
    validating a small model: the parts of an update (text, contact, metadata) have none."""
    for name in dir(webhook_models):
        found = getattr(webhook_models, name)
        if isinstance(found, type) and issubclass(found, webhook_models.MetaModel):
            expected = {"_source"} if issubclass(found, webhook_models.MetaItem) else set()
            assert set(found.__private_attributes__) == expected, name
    assert {Message, Status, UserPreference} <= {
        m
        for m in vars(webhook_models).values()
        if isinstance(m, type) and issubclass(m, webhook_models.MetaItem)
    }


def test_an_update_is_validated_once_and_set_aside_exactly_as_sent() -> None:
    raw_message = {
        "from": "15550000001",
        "id": "wamid.1",
        "timestamp": "1700000000",
        "type": "text",
        "text": {"body": "hi"},
        "future_field": {"kept": True},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "1555", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Ada"}, "wa_id": "15550000001"}],
        "messages": [raw_message],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    change = read_webhook(WebhookPayload.model_validate_json(json.dumps(body))).changes[0]
    message = change.value.messages[0]
    assert message.as_sent() == raw_message  # the JSON it was read from, unknown fields and all
    assert message.text is not None
    assert message.text.body == "hi"
    assert isinstance(change.value.metadata, Metadata)
    assert isinstance(change.value.contacts[0], Contact)
    assert not isinstance(change, BaseModel)  # a plain holder: its parts are not validated again
    assert change.waba_id == "1"
    assert change.field == "messages"
    assert Contact.model_validate(value["contacts"][0]).as_sent() == value["contacts"][0]


def test_the_webhooks_cold_start_leaves_what_it_does_not_need_for_later() -> None:
    """`import function_app` and the adapters the first webhook uses, in a fresh process: sign-in,
    Dataverse, the Blob SDK, the Graph client and the send pipeline are imported on first use."""
    code = (
        "import sys, json, function_app\n"
        "from shared.services import get_services\n"
        "services = get_services()\n"
        "names = ['azure.storage.blob', 'shared.api.guard', 'shared.auth.entra', 'jwt',\n"
        "         'shared.access.records', 'phonenumbers', 'shared.dataverse.client',\n"
        "         'shared.whatsapp.graph_client', 'shared.conversations.send', 'shared.api.openapi']\n"
        "before = [n for n in names if n in sys.modules]\n"
        "services.media, services.sender\n"
        "print(json.dumps({'before': before, 'blob': 'azure.storage.blob' in sys.modules,\n"
        "                  'graph': 'shared.whatsapp.graph_client' in sys.modules}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    command = [sys.executable, "-c", code]
    found = json.loads(subprocess.check_output(command, cwd=ROOT, env=env, text=True))  # noqa: S603
    assert found == {"before": [], "blob": True, "graph": True}
