"""Every real webhook body in ../shared/whatsapp-payloads goes through the webhook and is stored.

That folder travels with CI, not with a user's clone: without it these tests are skipped.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from shared.conversations.documents import conversation_id, document_id
from shared.services import Services
from tests.payloads import signed

PAYLOADS = Path(__file__).resolve().parent.parent.parent / "shared" / "whatsapp-payloads"
FILES = sorted(PAYLOADS.glob("*.json")) if PAYLOADS.is_dir() else []
EXPECTED_KIND = {
    "edit_image": "image",
    "interactive_with_value_errors_131000": "unsupported",  # no interactive body: kept raw
    "revoke": "system",
    "smb_message_echo_text": "text",
    "unsupported_with_type_pywa": "unsupported",
}


def _with_own_number(payload: dict[str, Any], number: str) -> dict[str, Any]:
    for entry in payload["entry"]:
        for change in entry["changes"]:
            change["value"]["metadata"]["phone_number_id"] = number
    return payload


@pytest.mark.skipif(not FILES, reason="../shared/whatsapp-payloads is not beside this clone")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_real_payload_is_stored(path: Path, client: Client, services: Services) -> None:
    number = str(random.randrange(10**14, 10**15))
    payload = _with_own_number(json.loads(path.read_text()), number)
    body, headers = signed(payload)
    response = client.post("/api/whatsapp/webhook", data=body, headers=headers)
    assert response.status_code == 200, response.text

    value = payload["entry"][0]["changes"][0]["value"]
    for item in value.get("messages", []) + value.get("message_echoes", []):
        echo = "to" in item
        customer = (item["to"] or item["to_user_id"]) if echo else (item["from"] or item["from_user_id"])
        stored = services.store.read(conversation_id(number, customer), document_id(item["id"]))
        assert stored is not None, f"{item['id']} not stored"
        assert stored["kind"] == EXPECTED_KIND.get(path.stem, item["type"])
        if stored["kind"] == "unsupported":
            assert stored["raw"]["id"] == item["id"]
    for item in value.get("statuses", []):
        receipt = services.store.read(
            conversation_id(number, item["recipient_id"]), document_id(f"receipt:{item['id']}")
        )
        assert receipt is not None
        assert item["status"] in receipt["statusTimes"]
    # The same body again is a duplicate, never a second copy.
    again = client.post("/api/whatsapp/webhook", data=body, headers=headers)
    assert again.json["stored"] == 0
