"""Meta's news about the account, a business number or a template: one structured log line each.

Nothing is stored: these are for the operator (an alert when the account is restricted, a template
rejected, a number's limit lowered). Each field has its own fixed message, and the key fields are
customDimensions, so an alert rule matches the message and filters on `event` (docs/monitoring.md).
Warnings for the events someone must act on; info for the rest.
"""

from __future__ import annotations

import logging

from shared.whatsapp.webhook_models import (
    AccountEvent,
    AccountUpdate,
    PhoneNumberQualityUpdate,
    TemplateStatusUpdate,
)

log = logging.getLogger(__name__)

ACCOUNT_UPDATE_MESSAGE = "WhatsApp account update"
QUALITY_UPDATE_MESSAGE = "WhatsApp phone number quality update"
TEMPLATE_STATUS_MESSAGE = "WhatsApp template status update"

# Events values from Meta's webhook references (account_update, phone_number_quality_update,
# message_template_status_update) that stop or limit sending.
_ACT_ON = frozenset(
    {
        "ACCOUNT_DELETED",
        "ACCOUNT_OFFBOARDED",
        "ACCOUNT_RESTRICTION",
        "ACCOUNT_VIOLATION",
        "DISABLED_UPDATE",
        "PARTNER_REMOVED",
        "DOWNGRADE",
        "FLAGGED",
        "DISABLED",
        "LIMIT_EXCEEDED",
        "LOCKED",
        "PAUSED",
        "PENDING_DELETION",
        "REJECTED",
    }
)


def _dimensions(event: AccountEvent) -> dict[str, str | None]:
    value = event.value
    found: dict[str, str | None] = {
        "webhookField": event.field,
        "event": value.event,
        "wabaId": event.waba_id,
    }
    if isinstance(value, AccountUpdate):
        found |= {
            "phoneNumber": value.phone_number,
            "country": value.country,
            "violationType": value.violation_info.violation_type if value.violation_info else None,
            "banState": value.ban_info.waba_ban_state if value.ban_info else None,
            "banDate": value.ban_info.waba_ban_date if value.ban_info else None,
            "restrictions": ",".join(r.restriction_type for r in value.restriction_info if r.restriction_type)
            or None,
        }
    elif isinstance(value, PhoneNumberQualityUpdate):
        found |= {
            "phoneNumber": value.display_phone_number,
            "currentLimit": value.current_limit,
            "oldLimit": value.old_limit,
            "maxDailyConversations": value.max_daily_conversations_per_business,
        }
    elif isinstance(value, TemplateStatusUpdate):
        found |= {
            "templateId": value.message_template_id,
            "templateName": value.message_template_name,
            "templateLanguage": value.message_template_language,
            "templateCategory": value.message_template_category,
            "templateReason": value.reason,
            "rejectionReason": value.rejection_info.reason if value.rejection_info else None,
        }
    return found


_MESSAGES = {
    "account_update": ACCOUNT_UPDATE_MESSAGE,
    "phone_number_quality_update": QUALITY_UPDATE_MESSAGE,
    "message_template_status_update": TEMPLATE_STATUS_MESSAGE,
}


def log_account_event(event: AccountEvent) -> None:
    level = logging.WARNING if (event.value.event or "").upper() in _ACT_ON else logging.INFO
    log.log(level, _MESSAGES[event.field], extra=_dimensions(event))
