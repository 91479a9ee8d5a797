"""Every agent route passes here first: the app's set-up is complete, the caller holds a valid Entra ID
token, the business number is one this deployment serves, and (where Dataverse is configured) the
agent may read the Contact or Lead the panel sits on, which holds the customer's number."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import ValidationError

from shared.access.records import AccessCheckUnavailable, AccessNotConfigured, RecordRefused
from shared.api.responses import ApiResponse, error_response
from shared.auth.entra import AuthError, Principal, authenticate
from shared.config import Settings
from shared.conversations.aliases import known_customer
from shared.conversations.customer_id import InvalidCustomerId, normalise_customer_id, whatsapp_variants
from shared.conversations.documents import Regarding, conversation_id
from shared.conversations.ports import StoreUnavailable
from shared.conversations.read_cache import ReadCache
from shared.dataverse.backfill import request_backfill
from shared.services import Services

log = logging.getLogger(__name__)

REGARDING_PARAM = "regarding"
# (store, business number, the customer id a route names) -> the id their conversation is kept under
Resolver = Callable[[ReadCache, str, str], str]
# Meta's phone number ids are 15-16 ASCII digits; 20 leaves room and keeps them out of anything odd.
_PHONE_NUMBER_ID = re.compile(r"[0-9]{1,20}")
ACCESS_RETRY_SECONDS = "5"
T = TypeVar("T")


class BadRequest(ValueError):
    """A parameter or the body is malformed: 400 with the message."""


class Refused(Exception):
    """The agent may not use this conversation: 403 `not_allowed` with the reason."""


@dataclass(frozen=True)
class AgentRequest:
    """Who asks, about which business number, customer and record: all checked."""

    agent: Principal
    phone_number_id: str
    customer_id: str  # as the conversation is kept (aliases followed)
    regarding: Regarding | None
    # The store as this request has seen it: the conversation and session documents already read.
    store: ReadCache


def not_configured(settings: Settings) -> ApiResponse | None:
    """503 while a secret setting holds a Key Vault reference App Service could not resolve."""
    if settings.unresolved_secrets:
        return error_response(
            503,
            "not_configured",
            "The app is not fully configured: an administrator must fix "
            f"{', '.join(settings.unresolved_secrets)} (an unresolved Key Vault reference).",
        )
    return None


def caller(authorization: str | None, settings: Settings) -> Principal | ApiResponse:
    """The authenticated agent, or the 401/403/503 answer to give instead."""
    if (refusal := not_configured(settings)) is not None:
        return refusal
    try:
        return authenticate(authorization, settings)
    except AuthError as error:
        return error_response(error.status, error.code, error.message, dict(error.headers))


def regarding_param(params: Mapping[str, str]) -> Regarding | None:
    """`regarding=contact:<guid>` or `lead:<guid>`: the record the chat panel sits on."""
    raw = params.get(REGARDING_PARAM)
    if raw is None or raw == "":
        return None
    entity, _, record_id = raw.partition(":")
    try:
        return Regarding.model_validate({"entity": entity, "id": record_id})
    except ValidationError:
        raise BadRequest(
            "regarding must be the record the panel is on: contact:<id> or lead:<id>, the id a GUID"
        ) from None


def business_number(params: Mapping[str, str], settings: Settings) -> str:
    number = params.get("phoneNumberId") or settings.WHATSAPP_PHONE_NUMBER_ID
    if not number:
        raise BadRequest("phoneNumberId is required (no WHATSAPP_PHONE_NUMBER_ID is configured)")
    if not _PHONE_NUMBER_ID.fullmatch(number):
        raise BadRequest("phoneNumberId must be the business number's numeric id from Meta (1-20 digits)")
    served = settings.phone_number_ids
    if served and number not in served:
        raise Refused(f"This app does not serve the business number {number}.")
    return number


def check_record(
    agent: Principal, regarding: Regarding | None, customer_ids: list[str] | None, services: Services
) -> None:
    """Raises Refused, BadRequest, AccessCheckUnavailable or AccessNotConfigured; returns when allowed."""
    if services.access is None:
        return
    if regarding is None:
        raise BadRequest(
            "regarding is required: the Contact or Lead the chat panel is on, as contact:<id> or lead:<id>"
        )
    try:
        services.access.check(agent.object_id, regarding, customer_ids)
    except RecordRefused as refused:
        log.info("agent refused: %s", refused.reason, extra={"regarding": regarding.to_param()})
        raise Refused(refused.reason) from None


def _customer_ids(route_customer: str, known: str) -> list[str]:
    """Every id the customer may have: as given, WhatsApp's usual rewrites, and the one kept."""
    return list(dict.fromkeys([route_customer, *whatsapp_variants(route_customer), known]))


def guarded(
    authorization: str | None,
    services: Services,
    decide: Callable[[Principal], T],
) -> T | ApiResponse:
    """Runs `decide` for the authenticated agent and turns its refusals into the API's answers."""
    if isinstance(agent := caller(authorization, services.settings), ApiResponse):
        return agent
    try:
        return decide(agent)
    except BadRequest as error:
        return error_response(400, "invalid_request", str(error))
    except Refused as error:
        return error_response(403, "not_allowed", str(error))
    except AccessNotConfigured:
        return error_response(
            503,
            "not_configured",
            "Dynamics 365 access cannot be checked: the app's Dataverse user lacks the Delegate role "
            "(prvActOnBehalfOfAnotherUser). An administrator must grant it.",
        )
    except AccessCheckUnavailable:
        return error_response(
            503,
            "access_check_unavailable",
            "Dynamics 365 could not be asked whether you may see this record; try again shortly.",
            {"Retry-After": ACCESS_RETRY_SECONDS},
        )
    except StoreUnavailable as error:
        log.warning("conversation storage unavailable: %s", error, exc_info=True)
        return error_response(503, "store_unavailable", "Conversation storage is unavailable; try again.")


def conversation_request(
    agent: Principal,
    customer: str,
    params: Mapping[str, str],
    services: Services,
    body_regarding: Regarding | None = None,
    resolve: Resolver | None = None,
) -> AgentRequest:
    """The checked request of a conversation route (session, history, send). `resolve` finds the
    customer id the conversation is kept under (default: `known_customer`); a poll brings its own."""
    try:
        route_customer = normalise_customer_id(customer)
    except InvalidCustomerId as error:
        raise BadRequest(str(error)) from error
    number = business_number(params, services.settings)
    regarding = regarding_param(params)
    if regarding is not None and body_regarding is not None and regarding != body_regarding:
        raise BadRequest("the body's regarding differs from the regarding parameter")
    regarding = regarding or body_regarding
    store = ReadCache(services.store)
    known = (resolve or known_customer)(store, number, route_customer)
    check_record(agent, regarding, _customer_ids(route_customer, known), services)
    if services.access is not None and regarding is not None:
        _link_checked_record(services, store, conversation_id(number, known), regarding)
    return AgentRequest(agent, number, known, regarding, store)


def _link_checked_record(
    services: Services, store: ReadCache, conversation: str, regarding: Regarding
) -> None:
    """Dataverse has just confirmed the record holds the customer's number: an unlinked conversation
    takes it as its link (never replacing one) and its rows written unlinked are backfilled by the
    mirror function (`shared.dataverse.backfill`). Only a write and a queue message here; a failure
    costs the backfill, not the agent's request."""
    try:
        request_backfill(store, services.queue, conversation, regarding)
    except StoreUnavailable as error:
        log.warning(
            "could not link or enqueue the backfill of %s (%s); run "
            "`python -m shared.dataverse.backfill --conversation %s`",
            conversation,
            error,
            conversation,
            extra={"conversationId": conversation, "regarding": regarding.to_param()},
        )


def record_request(agent: Principal, params: Mapping[str, str], services: Services) -> Regarding | None:
    """The checked record of a route about no customer in particular (upload)."""
    regarding = regarding_param(params)
    check_record(agent, regarding, None, services)
    return regarding
