"""The OpenAPI 3.1 document of the D365-facing API, generated from the models the code answers with.

`python -m shared.api.openapi` rewrites the committed `openapi.json`; a test fails when they differ,
and another (schemathesis) checks the running routes against the committed document.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.api.conversations import DEFAULT_PAGE, MAX_PAGE
from shared.api.guard import REGARDING_PARAM
from shared.api.views import (
    ErrorResponse,
    Health,
    MessagesPage,
    MessageView,
    SendFailure,
    SessionStatus,
    UploadResult,
)
from shared.conversations.commands import SendMessageCommand
from shared.conversations.documents import GUID_PATTERN

DOCUMENT = Path(__file__).with_name("openapi.json")
REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref(model)}},
    }
    if headers:
        response["headers"] = headers
    return response


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return _json(ErrorResponse, description, headers)


CUSTOMER = {
    "name": "customerId",
    "in": "path",
    "required": True,
    "description": "The customer's WhatsApp number in any usual spelling (`+44 7700 900123`), or their "
    "business-scoped user id.",
    "schema": {"type": "string", "minLength": 1},
}
PHONE_NUMBER_ID = {
    "name": "phoneNumberId",
    "in": "query",
    "required": False,
    "description": "The business number's id in Meta; defaults to the configured one. Must be one of "
    "WHATSAPP_PHONE_NUMBER_IDS where that is set (else 403 `not_allowed`).",
    "schema": {"type": "string", "pattern": "^[0-9]{1,20}$"},
}
# Named once, referenced by every agent route.
REGARDING_PARAMETER = {
    "name": REGARDING_PARAM,
    "in": "query",
    "required": False,
    "description": "The Contact or Lead the chat panel is on, `contact:<id>` or `lead:<id>` (the id a GUID). "
    "Required wherever Dataverse is configured: the agent must be able to read that record in Dynamics 365 "
    "(asked as the agent), and the customer's number must be one of its phones (mobile, business, home); "
    "else 403 `not_allowed` with the reason.",
    "schema": {"type": "string", "pattern": f"^(contact|lead):{GUID_PATTERN.strip('^$')}$"},
}
REGARDING = {"$ref": "#/components/parameters/regarding"}
AUTH_ERRORS = {
    "401": _error("No valid Entra ID token.", {"WWW-Authenticate": {"schema": {"type": "string"}}}),
    "403": _error(
        "`forbidden`: the agent lacks the required app role; `not_allowed`: Dynamics 365 does not let this "
        "agent read the record, the customer's number is not on it, or this business number is not served."
    ),
    "503": _error(
        "`not_configured` (an unresolved secret, or the Dataverse user lacks the Delegate role), "
        "`auth_not_configured`, `access_check_unavailable` (Dataverse could not be asked; Retry-After), "
        "or `store_unavailable`.",
        {"Retry-After": {"schema": {"type": "string"}}},
    ),
}
BAD_REQUEST = {"400": _error("The customer id, a parameter or the body is invalid; the message says which.")}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "string"}}}


def build_document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [
            (SessionStatus, "serialization"),
            (MessageView, "serialization"),
            (MessagesPage, "serialization"),
            (SendFailure, "serialization"),
            (ErrorResponse, "serialization"),
            (Health, "serialization"),
            (UploadResult, "serialization"),
            (SendMessageCommand, "validation"),
        ],
        by_alias=True,
        ref_template=REF,
    )
    secured: list[dict[str, list[str]]] = [{"entraId": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "WhatsApp for Dynamics 365",
            "version": "1.0.0",
            "description": "What the D365 chat panel calls: session status, chat history, and Send. "
            'Errors are always `{"error": {"code", "message"}}`.',
        },
        "servers": [{"url": "/api"}],
        "paths": {
            "/conversations/{customerId}/session": {
                "get": {
                    "operationId": "get_session",
                    "summary": "Is the customer's 24-hour window open?",
                    "security": secured,
                    "parameters": [CUSTOMER, PHONE_NUMBER_ID, REGARDING],
                    "responses": {
                        "200": _json(SessionStatus, "The window's state."),
                        **BAD_REQUEST,
                        **AUTH_ERRORS,
                    },
                }
            },
            "/conversations/{customerId}/messages": {
                "get": {
                    "operationId": "get_messages",
                    "summary": "The chat history, newest first, a page at a time.",
                    "security": secured,
                    "parameters": [
                        CUSTOMER,
                        PHONE_NUMBER_ID,
                        REGARDING,
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "pattern": "^[0-9]{1,3}$"},
                            "description": f"Page size, 1 to {MAX_PAGE} (default {DEFAULT_PAGE}).",
                        },
                        {
                            "name": "before",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 64},
                            "description": "The `next` cursor of the previous page.",
                        },
                        {
                            "name": "changedSince",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
                            "description": "A `pollCursor` from an earlier answer: only messages written or "
                            "changed since then (up to `limit`), newest first.",
                        },
                    ],
                    "responses": {
                        "200": _json(MessagesPage, "A page of messages."),
                        **BAD_REQUEST,
                        **AUTH_ERRORS,
                    },
                },
                "post": {
                    "operationId": "send_message",
                    "summary": "Send a session message (text, or media by https URL) to the customer.",
                    "description": "Only inside the 24-hour window. One `clientMessageId` sends once.",
                    "security": secured,
                    "parameters": [CUSTOMER, PHONE_NUMBER_ID, REGARDING],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(SendMessageCommand)}},
                    },
                    "responses": {
                        "202": _json(MessageView, "Accepted by WhatsApp (or a replay of an earlier send)."),
                        **BAD_REQUEST,
                        **AUTH_ERRORS,
                        "409": _error(
                            "`session_inactive`: the 24-hour window is closed, only templates may be sent; "
                            "`client_message_id_reused`: this clientMessageId was sent before with another "
                            "body, and nothing was sent."
                        ),
                        "422": _json(SendFailure, "WhatsApp refused the message, with its reason."),
                        "429": _json(SendFailure, "WhatsApp is rate limiting; retry later.", RETRY_AFTER),
                        "502": _json(
                            SendFailure, "WhatsApp refused the app's credentials or could not be reached."
                        ),
                        "504": _json(
                            SendFailure,
                            "WhatsApp did not answer in time, or failed without saying why (a 5xx without "
                            "its error object): the message may still arrive, so it is never resent.",
                        ),
                    },
                },
            },
            "/media": {
                "post": {
                    "operationId": "upload_media",
                    "summary": "Upload a file for the media URL box, checked against WhatsApp's rules.",
                    "security": secured,
                    "parameters": [
                        REGARDING,
                        {
                            "name": "X-Filename",
                            "in": "header",
                            "required": False,
                            "description": "The file's name, for a raw (non-multipart) body.",
                            "schema": {"type": "string"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"file": {"type": "string", "format": "binary"}},
                                    "required": ["file"],
                                }
                            },
                            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    "responses": {
                        "201": _json(UploadResult, "Stored; `mediaUrl` is valid for MEDIA_URL_MINUTES."),
                        **BAD_REQUEST,
                        **AUTH_ERRORS,
                        "413": _error("Larger than WhatsApp allows for this type."),
                        "415": _error(
                            "A type WhatsApp cannot carry, or a name that contradicts the content."
                        ),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "responses": {
                        "200": {"description": "The OpenAPI document.", "content": {"application/json": {}}}
                    },
                }
            },
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness and which backends answer.",
                    "responses": {
                        "200": _json(Health, "Every backend answers."),
                        "503": _json(Health, "A backend does not answer."),
                    },
                }
            },
        },
        "components": {
            "schemas": schemas["$defs"],
            "parameters": {"regarding": REGARDING_PARAMETER},
            "securitySchemes": {
                "entraId": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An Entra ID access token for this API (audience AUTH_AUDIENCE).",
                }
            },
        },
    }


@lru_cache(maxsize=1)
def committed_document() -> str:
    """What GET /api/openapi.json serves: the reviewed, committed file (read once per instance)."""
    return DOCUMENT.read_text()


def render() -> str:
    return json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT}")
