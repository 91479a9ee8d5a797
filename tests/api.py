"""The app's HTTP API as the tests call it: Meta's signed webhook and the control's routes."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.test import Client, TestResponse

from tests.payloads import Json, signed


def deliver(client: Client, payload: Json | bytes) -> TestResponse:
    """Posts a webhook signed as Meta signs it; it must be accepted."""
    body, headers = signed(payload)
    response = client.post("/api/whatsapp/webhook", data=body, headers=headers)
    assert response.status_code == 200, response.text
    return response


def send_message(client: Client, phone_number_id: str, customer: str, **body: Any) -> TestResponse:
    return client.post(
        f"/api/conversations/{customer}/messages",
        query_string={"phoneNumberId": phone_number_id},
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )


def messages(client: Client, phone_number_id: str, customer: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/conversations/{customer}/messages", query_string={"phoneNumberId": phone_number_id, **params}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json["messages"]
    return found
