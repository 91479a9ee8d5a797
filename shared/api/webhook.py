"""Meta's webhook: the verification handshake and the signed POST of messages and statuses."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping

from pydantic import ValidationError

from shared.api.responses import ApiResponse, error_response, json_response, text_response
from shared.conversations.ingest import WebhookIngest, plan
from shared.conversations.ports import StoreUnavailable
from shared.services import Services
from shared.whatsapp.account_events import log_account_event
from shared.whatsapp.signature import signature_is_valid
from shared.whatsapp.webhook_models import WebhookPayload, describe, read_webhook

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "30"
# Meta: "Payloads can be up to 3 MB" (batches of up to 1000 updates). Anything past this cap is not
# Meta, and is refused before we spend an HMAC (and memory for parsing) on it.
MAX_BODY_BYTES = 8 * 1024 * 1024


def verify(params: Mapping[str, str], services: Services) -> ApiResponse:
    """Meta's GET handshake: echo `hub.challenge` only for our verify token."""
    expected = services.settings.WHATSAPP_VERIFY_TOKEN.get_secret_value()
    token = params.get("hub.verify_token", "")
    challenge = params.get("hub.challenge", "")
    if (
        params.get("hub.mode") == "subscribe"
        and expected
        and challenge
        and hmac.compare_digest(token.encode(), expected.encode())
    ):
        return text_response(200, challenge)
    log.warning("webhook verification refused (mode=%s)", params.get("hub.mode"))
    return error_response(403, "verification_failed", "Unknown verify token or hub.mode is not 'subscribe'.")


def receive(body: bytes, signature: str | None, services: Services) -> ApiResponse:
    """Answers 200 only once everything is stored; 5xx when a store is down, so Meta retries.

    Only a body that is not a WhatsApp webhook at all is a 400. An update inside it that cannot be
    placed is kept as a `rejected` document and the rest is stored: Meta batches up to 1000 updates
    and retries the whole batch for anything but a 200, so one bad update must not hold the others.
    """
    if len(body) > MAX_BODY_BYTES:
        log.warning("webhook refused: %d bytes, more than the %d accepted", len(body), MAX_BODY_BYTES)
        return error_response(413, "payload_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    secret = services.settings.WHATSAPP_APP_SECRET.get_secret_value()
    if not secret:
        log.error("WHATSAPP_APP_SECRET is not set: cannot check webhook signatures")
        return error_response(503, "not_configured", "The webhook is not configured yet.")
    if not signature_is_valid(body, signature, secret):
        log.warning("webhook refused: missing or wrong X-Hub-Signature-256")
        return error_response(401, "invalid_signature", "Missing or invalid X-Hub-Signature-256.")
    try:
        payload = WebhookPayload.model_validate_json(body)
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            return error_response(400, "malformed_json", "The body is not valid JSON.")
        where = describe(error, root="body")
        return error_response(400, "invalid_payload", f"Not a WhatsApp Business Account webhook: {where}")
    parsed = read_webhook(payload)
    work = plan(parsed)  # everything is validated and planned before the first write
    try:
        ingest = WebhookIngest(
            services.store, services.queue, services.clock, services.mirror_timing, services.notify_after
        )
        report = ingest.ingest(work)
    except StoreUnavailable as error:
        log.error("webhook not persisted, Meta will retry: %s", error)
        return error_response(
            503,
            "store_unavailable",
            "Storage is unavailable; retry later.",
            {"Retry-After": RETRY_AFTER_SECONDS},
        )
    for event in parsed.account_events:  # once stored: a 503 and Meta's retry would log it twice
        log_account_event(event)
    return json_response(
        200,
        {
            "stored": report.stored,
            "duplicates": report.duplicates,
            "statuses": report.statuses,
            "rejected": report.rejected,
        },
    )
