"""POST /conversations/{customerId}/messages: the agent's Send button (a session message, a template,
or a reaction: shared/conversations/send.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from pydantic import ValidationError

from shared.api.conversations import media_urls, message_view
from shared.api.guard import AgentRequest, BadRequest, conversation_request, guarded
from shared.api.meta_errors import credentials_refused, rate_limited
from shared.api.responses import ApiResponse, error_response, json_response
from shared.auth.entra import Principal
from shared.conversations.commands import AnySendCommand, parse_send_command
from shared.conversations.documents import MessageError
from shared.conversations.ports import StoreUnavailable
from shared.conversations.send import (
    ClientMessageIdReused,
    InvalidMedia,
    InvalidTarget,
    MarketingOptOut,
    SendFailed,
    SendMessage,
    SendOutcomeUnknown,
    SessionInactive,
    TemplateNotFound,
    TemplatesNotConfigured,
)
from shared.services import Services
from shared.templates.catalog import CatalogUnavailable
from shared.templates.filling import TemplateParameterError
from shared.whatsapp.graph_errors import BSUID_NOT_SUPPORTED, WINDOW_CLOSED

WINDOW_CLOSED_MESSAGE = (
    "This customer's 24-hour session has ended: you can only reply within 24 hours of the customer's "
    "last message. Wait for the customer to write again, or send an approved template."
)
MARKETING_OPT_OUT_MESSAGE = (
    "This customer asked WhatsApp to stop marketing messages from this business: send a utility "
    "template, or wait until they write."
)
MARKETING_STOPPED = 131050  # Meta's error codes: "User stopped marketing messages"
META_UNAVAILABLE_MESSAGE = "WhatsApp's list of this account's templates could not be read; try again shortly."
# Meta's 131062 names the rule, not what the agent can do about it.
USERNAME_ONLY_MESSAGE = (
    "WhatsApp does not deliver this kind of message to a customer known only by their WhatsApp "
    "username (no phone number is known for them). Send a plain text reply, or ask the customer for "
    "their phone number and write to that."
)

log = logging.getLogger(__name__)


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
    if code == MARKETING_STOPPED:  # Meta knew of the opt-out before its webhook reached us
        return error_response(409, "marketing_opt_out", MARKETING_OPT_OUT_MESSAGE)
    if (limited := rate_limited(code, reason, "sends")) is not None:
        body, headers = limited
        return json_response(429, {"error": body} | body_message, headers)
    if (refused := credentials_refused(code, "nothing")) is not None:
        return json_response(502, {"error": refused} | body_message)
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
    refusal = f"WhatsApp refused the message (code {code}): {reason}"
    if code == BSUID_NOT_SUPPORTED:
        refusal = f"{USERNAME_ONLY_MESSAGE} (WhatsApp code {code}: {reason})"
    return json_response(422, {"error": {"code": "rejected_by_whatsapp", "message": refusal}} | body_message)


def _command(body: bytes) -> AnySendCommand:
    try:
        return parse_send_command(body)
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            raise BadRequest("The body is not valid JSON.") from None
        raise BadRequest(_validation_message(error)) from None
    except ValueError as error:  # an unknown type
        raise BadRequest(str(error)) from None


def send_message(
    customer: str, params: Mapping[str, str], body: bytes, authorization: str | None, services: Services
) -> ApiResponse:
    def answer(agent: Principal) -> ApiResponse:
        command = _command(body)
        request = conversation_request(agent, customer, params, services, command.regarding)
        if command.regarding is None and request.regarding is not None:
            command = command.model_copy(update={"regarding": request.regarding})
        return _send(request, command, services)

    return guarded(authorization, services, answer)


def _send(request: AgentRequest, command: AnySendCommand, services: Services) -> ApiResponse:
    use_case = SendMessage(
        request.store,  # the session and conversation, read while checking the request
        services.queue,
        services.sender,
        services.media,
        services.clock,
        services.mirror_timing,
        services.settings.waba_for,
    )
    try:
        stored, _ = use_case(request.phone_number_id, request.customer_id, command, request.agent.object_id)
    except SessionInactive:
        return error_response(409, "session_inactive", WINDOW_CLOSED_MESSAGE)
    except ClientMessageIdReused:
        return error_response(
            409,
            "client_message_id_reused",
            "This clientMessageId was already used for a different message; nothing was sent. "
            "Use a new clientMessageId for a new message.",
        )
    except (InvalidMedia, InvalidTarget, TemplateParameterError) as error:
        return error_response(400, "invalid_request", str(error))
    except TemplateNotFound as error:
        return error_response(400, "template_not_found", str(error))
    except MarketingOptOut:
        return error_response(409, "marketing_opt_out", MARKETING_OPT_OUT_MESSAGE)
    except TemplatesNotConfigured:  # the picker (GET /templates) answers 503 not_configured
        return error_response(
            400,
            "template_not_found",
            "This business number has no templates: no WhatsApp Business Account is configured for it "
            "(an administrator must set WHATSAPP_BUSINESS_ACCOUNT_ID or WHATSAPP_BUSINESS_ACCOUNT_IDS).",
        )
    except CatalogUnavailable:
        return error_response(502, "meta_unavailable", META_UNAVAILABLE_MESSAGE)
    except SendFailed as failure:
        return failure_response(failure.error, failure.message)
    except SendOutcomeUnknown as unknown:
        return json_response(
            504,
            {
                "error": {
                    "code": "whatsapp_no_answer",
                    "message": f"{unknown.reason}; the message may still arrive. "
                    "Check the chat before sending it again.",
                },
                "message": message_view(unknown.message),
            },
        )
    except StoreUnavailable as error:
        log.warning("conversation storage unavailable during a send: %s", error, exc_info=True)
        return error_response(
            503, "store_unavailable", "Conversation storage is unavailable; nothing was sent."
        )
    return ApiResponse(202, json.dumps(message_view(stored, media_urls(services)), ensure_ascii=False))
