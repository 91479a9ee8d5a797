"""POST /conversations/{customerId}/read and /typing: the chat panel telling the customer that the agent
has read their messages, and is typing a reply (shared/conversations/agent_signals.py)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from shared.api.guard import AgentRequest, conversation_request, guarded
from shared.api.meta_errors import credentials_refused, rate_limited
from shared.api.responses import ApiResponse, error_response, json_response
from shared.api.views import ApiModel
from shared.auth.entra import Principal
from shared.conversations.agent_signals import AgentSignals, SignalFailed, WindowClosed
from shared.services import Services
from shared.whatsapp.graph_errors import WINDOW_CLOSED, GraphError

WINDOW_CLOSED_MESSAGE = (
    "This customer's 24-hour session has ended: you can only reply within 24 hours of the customer's "
    "last message, so WhatsApp shows no typing indicator."
)


class ReadReceipt(ApiModel):
    sent: bool = Field(
        description="True when a read receipt went to WhatsApp now; false when there was nothing new to "
        "mark read (or the message is older than WhatsApp's 30 days)."
    )
    message_id: str | None = Field(
        alias="messageId", description="The customer's newest message, now read; null if they never wrote."
    )
    agent_read_at: str | None = Field(
        alias="agentReadAt", description="When the agent side last read the conversation (ISO 8601)."
    )


class TypingResult(ApiModel):
    sent: bool = Field(
        description="True when WhatsApp now shows the customer the typing indicator (up to 25 s or until "
        "the reply); false when one was shown less than 20 s ago or the customer has sent no message."
    )


def _signals(request: AgentRequest, services: Services) -> AgentSignals:
    return AgentSignals(request.store, services.sender, services.clock)


def mark_read(
    customer: str, params: Mapping[str, str], authorization: str | None, services: Services
) -> ApiResponse:
    def answer(agent: Principal) -> ApiResponse:
        request: AgentRequest = conversation_request(agent, customer, params, services)
        signals = _signals(request, services)
        try:
            outcome = signals.mark_read(request.phone_number_id, request.customer_id)
        except SignalFailed as failed:
            return meta_failure(failed.error, "read receipt")
        receipt = ReadReceipt(
            sent=outcome.sent, message_id=outcome.message_id, agent_read_at=outcome.agent_read_at
        )
        return json_response(200, receipt.model_dump(by_alias=True, mode="json"))

    return guarded(authorization, services, answer)


def typing(
    customer: str, params: Mapping[str, str], authorization: str | None, services: Services
) -> ApiResponse:
    def answer(agent: Principal) -> ApiResponse:
        request = conversation_request(agent, customer, params, services)
        signals = _signals(request, services)
        try:
            sent = signals.typing(request.phone_number_id, request.customer_id)
        except WindowClosed:
            return error_response(409, "session_inactive", WINDOW_CLOSED_MESSAGE)
        except SignalFailed as failed:
            return meta_failure(failed.error, "typing indicator")
        return json_response(202, TypingResult(sent=sent).model_dump(by_alias=True, mode="json"))

    return guarded(authorization, services, answer)


def meta_failure(error: GraphError, what: str) -> ApiResponse:
    """Meta's refusal as sends map it (shared/api/send.py), with nothing recorded: never a 500."""
    code = error.code
    reason = error.details or error.title or "no reason given"
    if error.outcome_unknown:
        return error_response(
            504,
            "whatsapp_no_answer",
            f"WhatsApp did not answer in time; the {what} is not recorded, so the next call sends it again.",
        )
    if code == WINDOW_CLOSED:
        return error_response(
            409,
            "session_inactive",
            f"WhatsApp refused the {what}: more than 24 hours have passed since the customer's last "
            f"message (WhatsApp code {code}).",
        )
    if (limited := rate_limited(code, reason, "this number")) is not None:
        body, headers = limited
        return json_response(429, {"error": body}, headers)
    if (refused := credentials_refused(code, f"no {what}")) is not None:
        return json_response(502, {"error": refused})
    if code is None or error.transient:
        return error_response(502, "whatsapp_unavailable", f"WhatsApp did not take the {what}: {reason}.")
    return error_response(422, "rejected_by_whatsapp", f"WhatsApp refused the {what} (code {code}): {reason}")
