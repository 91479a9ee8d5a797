"""POST /conversations/{customerId}/messages: the agent's Send button."""

from __future__ import annotations

import json
from collections.abc import Mapping

from pydantic import ValidationError

from shared.api.conversations import BadRequest, media_urls, message_view, resolve_customer
from shared.api.guard import caller
from shared.api.responses import ApiResponse, error_response, json_response
from shared.conversations.commands import SendMessageCommand
from shared.conversations.documents import MessageError
from shared.conversations.ports import StoreUnavailable
from shared.conversations.send import (
    InvalidMedia,
    SendFailed,
    SendMessage,
    SendOutcomeUnknown,
    SessionInactive,
)
from shared.services import Services
from shared.whatsapp.graph_errors import AUTH_PROBLEMS, THROTTLED, WINDOW_CLOSED

WINDOW_CLOSED_MESSAGE = (
    "This customer's 24-hour session has ended: you can only reply within 24 hours of the customer's "
    "last message. Wait for the customer to write again, or send an approved template."
)


def _validation_message(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    text = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {text}" if where else text


def failure_response(error: MessageError, message: dict[str, object]) -> ApiResponse:
    """Meta's reason, in words for the agent, or for the operator where only they can act."""
    code = error.code
    reason = error.detail or error.title or "no reason given"
    body_message = {"message": message_view(message)}
    if code == WINDOW_CLOSED:
        return error_response(409, "session_inactive", WINDOW_CLOSED_MESSAGE)
    if code in THROTTLED:
        wait = 60 if code in (4, 80007) else 5
        limited = {
            "code": "rate_limited",
            "message": f"WhatsApp is rate limiting sends ({reason}); try again shortly.",
            "retryAfterSeconds": wait,  # also in the body: browsers cannot read Retry-After across origins
        }
        return json_response(429, {"error": limited} | body_message, {"Retry-After": str(wait)})
    if code in AUTH_PROBLEMS:
        operator = (
            f"WhatsApp refused this app's credentials (code {code}). An administrator must renew "
            "WHATSAPP_ACCESS_TOKEN or the app's permissions; nothing was sent."
        )
        return json_response(
            502, {"error": {"code": "whatsapp_auth_failed", "message": operator}} | body_message
        )
    if code is None or error.retryable:
        return json_response(
            502,
            {
                "error": {
                    "code": "whatsapp_unavailable",
                    "message": f"WhatsApp could not be reached: {reason}.",
                }
            }
            | body_message,
        )
    return json_response(
        422,
        {
            "error": {
                "code": "rejected_by_whatsapp",
                "message": f"WhatsApp refused the message (code {code}): {reason}",
            }
        }
        | body_message,
    )


def send_message(
    customer: str, params: Mapping[str, str], body: bytes, authorization: str | None, services: Services
) -> ApiResponse:
    if isinstance(agent := caller(authorization, services.settings), ApiResponse):
        return agent
    try:
        command = SendMessageCommand.model_validate_json(body)
        phone_number_id, customer_id = resolve_customer(customer, params, services)
    except StoreUnavailable:
        return error_response(
            503, "store_unavailable", "Conversation storage is unavailable; nothing was sent."
        )
    except BadRequest as error:
        return error_response(400, "invalid_request", str(error))
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            return error_response(400, "invalid_request", "The body is not valid JSON.")
        return error_response(400, "invalid_request", _validation_message(error))
    use_case = SendMessage(services.store, services.queue, services.sender, services.media, services.clock)
    try:
        stored, _ = use_case(phone_number_id, customer_id, command, agent.object_id)
    except SessionInactive:
        return error_response(409, "session_inactive", WINDOW_CLOSED_MESSAGE)
    except InvalidMedia as error:
        return error_response(400, "invalid_request", str(error))
    except SendFailed as failure:
        return failure_response(failure.error, failure.message)
    except SendOutcomeUnknown as unknown:
        return json_response(
            504,
            {
                "error": {
                    "code": "whatsapp_no_answer",
                    "message": "WhatsApp did not answer in time; the message may still arrive. "
                    "Check the chat before sending it again.",
                },
                "message": message_view(unknown.message),
            },
        )
    except StoreUnavailable:
        return error_response(
            503, "store_unavailable", "Conversation storage is unavailable; nothing was sent."
        )
    return ApiResponse(202, json.dumps(message_view(stored, media_urls(services)), ensure_ascii=False))
