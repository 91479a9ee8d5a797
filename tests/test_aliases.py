"""A D365 record's number finds the conversation even when WhatsApp knows the customer by another
spelling: Brazil's ninth digit, Mexico's "1", or whatever id Meta's send answer reveals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from shared.conversations.customer_id import whatsapp_variants
from shared.services import Services
from tests.api import deliver
from tests.payloads import envelope, inbound, message, status
from tests.test_send import Meta


@pytest.mark.parametrize(
    ("number", "variants"),
    [
        ("5511987654321", ["551187654321"]),  # Brazil: the CRM has the ninth digit, WhatsApp may not
        ("551187654321", ["5511987654321"]),
        ("5215512345678", ["525512345678"]),  # Mexico: with and without the old "1"
        ("525512345678", ["5215512345678"]),
        ("447700900123", []),
        ("US.13491208655302741918", []),
    ],
)
def test_the_usual_rewrites_are_known(number: str, variants: list[str]) -> None:
    assert whatsapp_variants(number) == variants


def get(client: Client, phone_number_id: str, customer: str, what: str) -> Any:
    return client.get(
        f"/api/conversations/{customer}/{what}", query_string={"phoneNumberId": phone_number_id}
    ).json


def test_a_brazilian_record_with_the_ninth_digit_finds_the_chat(client: Client, phone_number_id: str) -> None:
    whatsapp_id, crm_number = "551187654321", "+55 11 98765-4321"
    deliver(
        client, inbound(phone_number_id, whatsapp_id, message("text", {"body": "Olá"}, wa_id=whatsapp_id))
    )
    assert get(client, phone_number_id, crm_number, "session")["active"] is True
    assert [m["text"] for m in get(client, phone_number_id, crm_number, "messages")["messages"]] == ["Olá"]


def test_an_id_revealed_by_metas_answer_becomes_an_alias(
    client: Client, services: Services, httpserver: HTTPServer, phone_number_id: str
) -> None:
    asked, actual = "447700900123", "447700900999"
    deliver(client, inbound(phone_number_id, asked, message("text", {"body": "hi"}, wa_id=asked)))
    meta = Meta(httpserver, services)
    meta.accepts(phone_number_id, wamid="wamid.ALIAS", wa_id=actual)
    sent = client.post(
        f"/api/conversations/{asked}/messages",
        query_string={"phoneNumberId": phone_number_id},
        data=json.dumps({"type": "text", "text": "hello", "clientMessageId": "a-1"}),
        headers={"Content-Type": "application/json"},
    )
    assert sent.status_code == 202
    assert sent.json["customerId"] == actual
    deliver(client, envelope(phone_number_id, statuses=[status("wamid.ALIAS", "read", actual)]))
    shown = get(client, phone_number_id, asked, "messages")["messages"]  # the record's number, resolved
    assert [(m["id"], m["status"]) for m in shown] == [("out:a-1", "read")]
