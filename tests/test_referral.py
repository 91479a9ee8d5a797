"""Ad and product attribution: a click-to-WhatsApp ad's `referral` and a product enquiry's
`context.referred_product` are kept on the message, answered as typed fields, and mirrored as columns
of the activity, so a Lead's origin shows in D365."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML comes with schemathesis, without stubs
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from devhost.dataverse_standin import DataverseStandIn, mirror_for
from shared.conversations.documents import conversation_id, document_id
from shared.services import Services
from tests.api import deliver, messages
from tests.conftest import Queues
from tests.payloads import Json, inbound, new_wamid, now_ts
from tests.test_dataverse_mirror import mirror_all, the_row
from tests.test_in_context import customer, revoke, text

# Meta's OpenAPI document, facebook/openapi `business-messaging-api_v23.0.yaml` at ecba623b
# (vendored in tests/fixtures/meta-openapi), `POST /whatsapp/webhooks` request body examples
# "Text Message from Click to WhatsApp Ad" and "Text Message with Context (Product Inquiry)".
CTWA_CLID = (
    "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0NiNhEgpGo0A"
    "HemvuSoifXaytfTzcchptiErTKCqTrJ5nW1h7IHYeYymGb5K5J5iTROpBhWAGaIAeUzHL50"
)
FROM_AN_AD: Json = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "102290129340398",
            "changes": [
                {
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": "106540352242922",
                        },
                        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
                        "messages": [
                            {
                                "referral": {
                                    "source_url": "https://fb.me/3cr4Wqqkv",
                                    "source_id": "120226305854810726",
                                    "source_type": "ad",
                                    "body": "Summer Succulents are here!",
                                    "headline": "Chat with us",
                                    "media_type": "image",
                                    "image_url": "https://scontent.xx.fbcdn.net/v/t45.1...",
                                    "ctwa_clid": CTWA_CLID,
                                    "welcome_message": {"text": "Hi there! Let us know how we can help!"},
                                },
                                "from": "16505551234",
                                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=",
                                "timestamp": "1750275992",
                                "text": {"body": "Hello! Can I get more info on this?"},
                                "type": "text",
                            }
                        ],
                    },
                    "field": "messages",
                }
            ],
        }
    ],
}
PRODUCT_ENQUIRY: Json = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "102290129340398",
            "changes": [
                {
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": "106540352242922",
                        },
                        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
                        "messages": [
                            {
                                "context": {
                                    "from": "15550783881",
                                    "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA",
                                    "referred_product": {
                                        "catalog_id": "194836987003835",
                                        "product_retailer_id": "di9ozbzfi4",
                                    },
                                },
                                "from": "16505551234",
                                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTA2NTUwRkNEMDdFQjJCRUU0NQA=",
                                "timestamp": "1750016800",
                                "text": {"body": "Is this still available?"},
                                "type": "text",
                            }
                        ],
                    },
                    "field": "messages",
                }
            ],
        }
    ],
}
SHEENA = "16505551234"
META_OPENAPI = Path(__file__).parent / "fixtures" / "meta-openapi" / "business-messaging-api_v23.0.yaml"


def ours(example: Json, phone_number_id: str) -> tuple[Json, str]:
    """Meta's example for our own business number, with a fresh wamid (tests share the emulator)."""
    payload = copy.deepcopy(example)
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    wamid = value["messages"][0]["id"] = new_wamid()
    value["messages"][0]["timestamp"] = now_ts(-60)
    return payload, wamid


def referral_of(example: Json) -> Json:
    found: Json = example["entry"][0]["changes"][0]["value"]["messages"][0]["referral"]
    return found


@pytest.fixture
def dataverse(httpserver: HTTPServer) -> Iterator[DataverseStandIn]:
    standin = DataverseStandIn(httpserver)
    standin.provision()
    yield standin
    httpserver.clear()


def test_the_bodies_here_are_metas_examples_as_published() -> None:
    document = yaml.load(META_OPENAPI.read_text(), Loader=yaml.CSafeLoader)
    examples = document["paths"]["/whatsapp/webhooks"]["post"]["requestBody"]["content"]["application/json"]
    published = examples["examples"]
    assert published["Text Message from Click to WhatsApp Ad"]["value"] == FROM_AN_AD
    assert published["Text Message with Context (Product Inquiry)"]["value"] == PRODUCT_ENQUIRY


def test_an_ad_click_is_kept_as_meta_sent_it_and_answered_as_a_typed_referral(
    client: Client, services: Services, phone_number_id: str
) -> None:
    payload, wamid = ours(FROM_AN_AD, phone_number_id)
    deliver(client, payload)
    deliver(client, customer(phone_number_id, text("and the price?")))  # another customer, no ad

    stored = services.store.read(conversation_id(phone_number_id, SHEENA), document_id(wamid))
    assert stored is not None
    assert stored["details"]["referral"] == referral_of(FROM_AN_AD)  # welcome_message too
    [shown] = messages(client, phone_number_id, SHEENA)
    assert shown["referral"] == {
        "sourceType": "ad",
        "sourceUrl": "https://fb.me/3cr4Wqqkv",
        "sourceId": "120226305854810726",
        "headline": "Chat with us",
        "body": "Summer Succulents are here!",
        "mediaType": "image",
        "imageUrl": "https://scontent.xx.fbcdn.net/v/t45.1...",
        "ctwaClid": referral_of(FROM_AN_AD)["ctwa_clid"],
    }
    assert "referredProduct" not in shown
    [plain] = messages(client, phone_number_id, "447700900123")
    assert not {"referral", "referredProduct"} & set(plain)


def test_a_product_enquiry_is_answered_as_the_referred_product(client: Client, phone_number_id: str) -> None:
    payload, _ = ours(PRODUCT_ENQUIRY, phone_number_id)
    deliver(client, payload)
    [shown] = messages(client, phone_number_id, SHEENA)
    assert shown["referredProduct"] == {"catalogId": "194836987003835", "productRetailerId": "di9ozbzfi4"}
    assert shown["context"] == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA"
    assert "referral" not in shown


@pytest.mark.parametrize(
    ("referral", "answered"),
    [
        (
            {"source_id": 120226305854810726, "source_url": {"nested": 1}, "headline": ""},
            {"sourceId": "120226305854810726"},
        ),
        ({"source_url": ["a"], "welcome_message": {"text": "hi"}}, None),
        ({}, None),
    ],
)
def test_a_referral_of_another_shape_never_breaks_the_history(
    client: Client, phone_number_id: str, referral: dict[str, Any], answered: Json | None
) -> None:
    payload, _ = ours(FROM_AN_AD, phone_number_id)
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["referral"] = referral
    deliver(client, payload)
    [shown] = messages(client, phone_number_id, SHEENA)
    assert shown.get("referral") == answered


@pytest.mark.mirror_on
def test_the_ad_and_the_product_are_columns_of_the_activity(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    lead = dataverse.add_lead(mobilephone="+1 650 555 1234")
    payload, wamid = ours(FROM_AN_AD, phone_number_id)
    deliver(client, payload)
    mirror_all(mirror_for(dataverse, services.store), queues)
    row = the_row(dataverse)
    assert row["_regardingobjectid_value"] == lead
    assert {k: row[k] for k in row if k.startswith("wa_ad") or k == "wa_referredproduct"} == {
        "wa_adsourceurl": "https://fb.me/3cr4Wqqkv",
        "wa_adsourcetype": "ad",
        "wa_adsourceid": "120226305854810726",
        "wa_adheadline": "Chat with us",
        "wa_adclickid": referral_of(FROM_AN_AD)["ctwa_clid"],
        "wa_referredproduct": None,
    }

    enquiry, _ = ours(PRODUCT_ENQUIRY, phone_number_id)
    deliver(client, enquiry)
    mirror_all(mirror_for(dataverse, services.store), queues)
    products = [r["wa_referredproduct"] for r in dataverse.activities.values() if r["wa_wamid"] != wamid]
    assert products == ["di9ozbzfi4 (catalog 194836987003835)"]


@pytest.mark.mirror_on
def test_a_deleted_ad_message_keeps_the_leads_origin_but_serves_nothing(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    payload, wamid = ours(FROM_AN_AD, phone_number_id)
    deliver(client, payload)
    deliver(client, inbound(phone_number_id, SHEENA, {**revoke(wamid), "from": SHEENA}))
    [shown] = messages(client, phone_number_id, SHEENA)
    assert shown["deleted"] is True
    assert "referral" not in shown
    assert "Succulents" not in json.dumps(shown)
    mirror_all(mirror_for(dataverse, services.store), queues)
    row = the_row(dataverse)
    assert (row["description"], row["wa_adsourceid"]) == (None, "120226305854810726")
