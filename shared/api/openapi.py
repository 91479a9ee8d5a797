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

from shared.api.agent_signals import ReadReceipt, TypingResult
from shared.api.conversations import DEFAULT_PAGE, MAX_PAGE
from shared.api.guard import REGARDING_PARAM
from shared.api.inbox import InboxAnswer
from shared.api.views import (
    ErrorResponse,
    Health,
    MessagesPage,
    MessageView,
    SendFailure,
    SessionStatus,
    TemplateList,
    UploadResult,
)
from shared.conversations.commands import (
    SESSION_TYPES,
    SendMessageCommand,
    SendReactionCommand,
    SendTemplateCommand,
)
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


def _agent_signal(read: bool) -> dict[str, Any]:
    """POST .../read and .../typing: a receipt or an indicator on the customer's newest message."""
    meta_errors = {
        "409": _error("`session_inactive`: WhatsApp refused it with 131047 (the window is closed)."),
        "422": _error(
            "`rejected_by_whatsapp`: WhatsApp refused it (a message too old, ...), with its reason."
        ),
        "429": _error("`rate_limited`: WhatsApp is rate limiting; retry later.", RETRY_AFTER),
        "502": _error("`whatsapp_auth_failed` or `whatsapp_unavailable`: nothing was recorded."),
        "504": _error("`whatsapp_no_answer`: WhatsApp did not answer in time; nothing was recorded."),
    }
    if read:
        return {
            "operationId": "mark_read",
            "summary": "Mark the customer's newest message read (blue ticks), once per new message.",
            "description": "Records when the agent side read (`agentReadAt` in the session view). A call "
            "with nothing new sends nothing. Nothing is recorded when WhatsApp refuses or does not answer.",
            "security": [{"entraId": []}],
            "parameters": [CUSTOMER, PHONE_NUMBER_ID, REGARDING],
            "responses": {
                "200": _json(ReadReceipt, "Read (sent now, or already)."),
                **BAD_REQUEST,
                **AUTH_ERRORS,
                **meta_errors,
            },
        }
    return {
        "operationId": "send_typing",
        "summary": "Show the customer that the agent is typing (up to 25 s, or until the reply).",
        "description": "At most one indicator per 20 s per conversation; a faster call sends nothing. Also "
        "marks the customer's newest message read. Only inside the 24-hour window.",
        "security": [{"entraId": []}],
        "parameters": [CUSTOMER, PHONE_NUMBER_ID, REGARDING],
        "responses": {
            "202": _json(TypingResult, "Shown now, or not (one shown less than 20 s ago, no message)."),
            **BAD_REQUEST,
            **AUTH_ERRORS,
            **meta_errors,
            "409": _error(
                "`session_inactive`: no customer message in the last 24 hours, so no reply and no indicator."
            ),
        },
    }


SEND_BODY = {
    "oneOf": [_ref(SendMessageCommand), _ref(SendTemplateCommand), _ref(SendReactionCommand)],
    "discriminator": {
        "propertyName": "type",
        "mapping": {
            **{kind: REF.format(model=SendMessageCommand.__name__) for kind in SESSION_TYPES},
            "template": REF.format(model=SendTemplateCommand.__name__),
            "reaction": REF.format(model=SendReactionCommand.__name__),
        },
    },
}


def _templates() -> dict[str, Any]:
    """GET /templates: the template picker."""
    return {
        "operationId": "get_templates",
        "summary": "The approved templates the business number can send, with what each needs filled in.",
        "description": "Its WhatsApp Business Account's templates, read from WhatsApp at most every 5 "
        "minutes (and after a template status webhook), sorted by name then language. Templates this app "
        "cannot fill (location or product headers, carousels, copy-code, catalog or Flow buttons...) are "
        "left out.",
        "security": [{"entraId": []}],
        "parameters": [PHONE_NUMBER_ID, REGARDING],
        "responses": {
            "200": _json(TemplateList, "The approved templates."),
            **BAD_REQUEST,
            **AUTH_ERRORS,
            "502": _error("`meta_unavailable`: WhatsApp could not be read and nothing is cached."),
            "503": _error(
                "`not_configured`: no WhatsApp Business Account is configured for this business number "
                "(WHATSAPP_BUSINESS_ACCOUNT_ID(S)); or as any route: an unresolved secret, "
                "`auth_not_configured`, `access_check_unavailable`, `store_unavailable`.",
                {"Retry-After": {"schema": {"type": "string"}}},
            ),
        },
    }


def _inbox() -> dict[str, Any]:
    """GET /conversations: the agents' inbox."""
    return {
        "operationId": "get_inbox",
        "summary": "The business number's conversations, newest activity first, with unread counts.",
        "description": "Only conversations whose linked Contact or Lead the agent may read in Dynamics "
        "365 (where record checks are on), and those with no linked record yet (`record: null`). A "
        "page can hold fewer than `limit` rows when some were not the agent's to see; follow `next` "
        "until it is null.",
        "security": [{"entraId": []}],
        "parameters": [
            PHONE_NUMBER_ID,
            {
                "name": "state",
                "in": "query",
                "required": False,
                "description": "`waiting`: with unread customer messages; `open`: inside the 24-hour "
                "window; `all` (default).",
                "schema": {"type": "string", "enum": ["waiting", "open", "all"]},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "Conversations per page, 1 to 100 (default 25).",
                "schema": {"type": "string", "pattern": "^[0-9]{1,3}$"},
            },
            {
                "name": "next",
                "in": "query",
                "required": False,
                "description": "The `next` of the previous page.",
                "schema": {"type": "string", "maxLength": 400},
            },
        ],
        "responses": {"200": _json(InboxAnswer, "One page of the inbox."), **BAD_REQUEST, **AUTH_ERRORS},
    }


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
            (ReadReceipt, "serialization"),
            (TypingResult, "serialization"),
            (SendMessageCommand, "validation"),
            (TemplateList, "serialization"),
            (SendTemplateCommand, "validation"),
            (SendReactionCommand, "validation"),
            (InboxAnswer, "serialization"),
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
                            "schema": {"type": "string", "maxLength": 8000, "pattern": "^[A-Za-z0-9_-]+$"},
                            "description": "A `pollCursor` from an earlier answer: only messages written or "
                            "changed since then (up to `limit`), newest first; `next` is set while more "
                            "wait.",
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
                    "summary": "Send a message: text or media, an approved template, or a reaction.",
                    "description": "Text, media and reactions only inside the 24-hour window; a template "
                    "whether it is open or not. One `clientMessageId` sends once. A template's parameters "
                    "are checked against it before anything leaves; 502 `meta_unavailable` when its "
                    "account's templates cannot be read.",
                    "security": secured,
                    "parameters": [CUSTOMER, PHONE_NUMBER_ID, REGARDING],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": SEND_BODY}},
                    },
                    "responses": {
                        "202": _json(MessageView, "Accepted by WhatsApp (or a replay of an earlier send)."),
                        "400": _error(
                            "`invalid_request`: the body, a template parameter (missing, unexpected, of the "
                            "wrong kind) or the message reacted to; `template_not_found`: no approved "
                            "template of that name and language for this number's account (or no account "
                            "is configured for the number)."
                        ),
                        **AUTH_ERRORS,
                        "409": _error(
                            "`session_inactive`: the 24-hour window is closed, only templates may be sent; "
                            "`client_message_id_reused`: this clientMessageId was sent before with another "
                            "body, and nothing was sent; `marketing_opt_out`: a marketing template to a "
                            "customer who stopped marketing messages."
                        ),
                        "422": _json(SendFailure, "WhatsApp refused the message, with its reason."),
                        "429": _json(SendFailure, "WhatsApp is rate limiting; retry later.", RETRY_AFTER),
                        "502": {
                            "description": "WhatsApp refused the app's credentials or could not be reached "
                            "(with the message); `meta_unavailable`: a template's account could not be read.",
                            "content": {
                                "application/json": {
                                    "schema": {"anyOf": [_ref(SendFailure), _ref(ErrorResponse)]}
                                }
                            },
                        },
                        "504": _json(
                            SendFailure,
                            "WhatsApp did not answer in time, or failed without saying why (a 5xx without "
                            "its error object): the message may still arrive, so it is never resent.",
                        ),
                    },
                },
            },
            "/conversations/{customerId}/read": {"post": _agent_signal(read=True)},
            "/conversations/{customerId}/typing": {"post": _agent_signal(read=False)},
            "/templates": {"get": _templates()},
            "/conversations": {"get": _inbox()},
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
