"""A local stand-in for Meta's WhatsApp Cloud API, so the whole chat loop runs on one machine.

It answers the Graph send API the way Meta does where the app can see it (bearer token, request checks,
the 24-hour customer-service window, the success and error shapes of WHATSAPP-NOTES.md §5 and §7), then
posts signed `sent`, `delivered` and `read` status webhooks to the app. Customers "write" through
`POST /sandbox/customers/{wa_id}/messages`, which posts Meta's inbound text webhook to the app.

A customer is a phone number or, for one known only by a WhatsApp username, a business-scoped user id
(`US.13491208655302741918`, §0 [BSUID]): such a customer writes with an empty `from`/`wa_id` and
`from_user_id`/`user_id`, is sent to with `recipient` (never `to`; `to` wins when both are given),
and the send's answer names them in `contacts[].user_id` instead of `wa_id`. A number sent without its
`+` gets the business number's country code prepended, as Meta does.

A customer can change number (`POST /sandbox/customers/{wa_id}/change-number`) or user id
(`.../change-user-id`): Meta's `user_changed_number` / `user_changed_user_id` system webhook is posted,
the window moves to the new id, and the old id is refused as Meta refuses a number that is not on
WhatsApp (131026). `.../expire-window` ends a window early; with `?refusal=webhook` (or
`refusals="webhook"` for every customer) Meta's refusals come as real Meta sometimes sends them:
200 and a wamid, then a signed `failed` status carrying the error.

Every body `POST /{phone-number-id}/messages` receives must be one Meta's OpenAPI document describes
(devhost/meta_openapi.py): a message, or a read receipt with or without a typing indicator, which are
recorded per customer (`GET /sandbox/receipts`). Templates are the WABA's own (devhost/
sandbox_templates.py): `GET /{WABA-ID}/message_templates` lists them as Graph does, a template send is
accepted inside or outside the window once it fills an approved template (else 132000, 132001, 132012
as on Meta), and `POST /sandbox/template-status` changes one's status and posts Meta's
`message_template_status_update` webhook. A customer stops or resumes marketing messages with
`POST /sandbox/customers/{wa_id}/marketing` (Meta's `user_preferences` webhook); a marketing template
to them is then refused with 131050.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from http import HTTPStatus
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from devhost.meta_openapi import problems as meta_problems
from devhost.sandbox_templates import (
    REJECTION_REASONS,
    STATUS_EVENTS,
    ListingError,
    Template,
    TemplateRefusal,
    check_send,
    listing,
    sandbox_templates,
    status_update_webhook,
)
from shared.config import LOOPBACK_HOSTS
from shared.whatsapp.signature import SIGNATURE_HEADER, sign

log = logging.getLogger("devhost.sandbox")
Json = dict[str, Any]
T = TypeVar("T")

WINDOW_SECONDS = 24 * 3600
DEFAULT_PHONE_NUMBER_ID = "106540352242922"  # the example ids of Meta's webhook reference
DISPLAY_PHONE_NUMBER = "15550783881"
# "If the plus sign is omitted, your business phone number's country calling code is prepended"
# (WHATSAPP-NOTES.md §5, [SEND-GUIDE]): the display number's, +1.
BUSINESS_COUNTRY_CODE = "1"
WABA_ID = "102290129340398"
DEFAULT_CUSTOMER_NAME = "Local Customer"
MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
SEND_TYPES = MEDIA_TYPES | {"text", "reaction", "template"}
# Service messages have been free since 2024-11-01; PMP is the pricing model since 2025-07-01.
SERVICE_PRICING: Json = {
    "billable": False,
    "pricing_model": "PMP",
    "type": "free_customer_service",
    "category": "service",
}
# A customer's marketing preference, as the user_preferences webhook states it (its reference:
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/user_preferences).
MARKETING_PREFERENCES = {
    "stop": "User requested to stop marketing messages",
    "resume": "User requested to resume marketing messages",
}


def graph_error(code: int, message: str, details: str | None = None) -> Json:
    """Meta's error object (the value under `"error"`); every response adds its own `fbtrace_id`."""
    error: Json = {"message": message, "type": "OAuthException", "code": code}
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return error


INVALID_TOKEN = graph_error(190, "Error validating access token: The access token could not be decrypted")

# The sandbox is one Meta app subscribed (or not) to its one WABA, WABA_ID, as Meta's "Webhook overrides"
# page describes it ([OVERRIDE] below: https://developers.facebook.com/documentation/business-messaging/
# whatsapp/webhooks/override/) and Meta's OpenAPI document (tests/fixtures/meta-openapi,
# `/{Version}/{WABA-ID}/subscribed_apps`). The app's fields as GET /{WABA-ID}/subscribed_apps lists them:
SANDBOX_APP: Json = {
    "id": "1234567890123456",
    "name": "WhatsApp sandbox",
    "link": "https://www.facebook.com/games/?app_id=1234567890123456",
}
# "Alternate callback URL where messages webhooks should be sent. Maximum 200 characters." [OVERRIDE]
MAX_CALLBACK_CHARS = 200


def _unknown_object(method: str, object_id: str) -> GraphError:
    """Graph's answer for an id the token cannot see (another WABA, a typo)."""
    message = (
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation."
    )
    error = {"message": message, "type": "GraphMethodException", "code": 100, "error_subcode": 33}
    return GraphError(400, error)


def _phrase(status: int) -> str:
    """The standard reason phrase ("Forbidden"), as Meta quotes it, whatever case the server used."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _callback_unverified(errors: str) -> GraphError:
    """Meta could not verify an override callback with the GET handshake: 400, code 2200, Meta's wording
    as developers report it ("(#2200) Callback verification failed with the following errors: HTTP
    Status Code = 403; HTTP Message = Forbidden")."""
    message = f"(#2200) Callback verification failed with the following errors: {errors}"
    return GraphError(400, {"message": message, "type": "OAuthException", "code": 2200})


# How Meta tells the app it will not deliver a message (WHATSAPP-NOTES.md §7: "synchronously in the Graph
# response, asynchronously in webhooks ..., or both"): a 400 with the error object, or 200 and a wamid
# followed by a `failed` status carrying it.
Refusals = Literal["response", "webhook"]
REFUSALS: dict[str, Refusals] = {"response": "response", "webhook": "webhook"}  # by name
ERROR_CODES_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


@dataclass(frozen=True)
class Refusal:
    """One of Meta's delivery refusals, in both of the shapes Meta sends it."""

    code: int
    title: str
    details: str

    def graph_error(self) -> Json:
        """The synchronous error object: `(#code) title`, the reason in `error_data.details` (§7)."""
        return graph_error(self.code, f"(#{self.code}) {self.title}", self.details)

    def status_error(self) -> Json:
        """The `errors[]` item of a failed status (§3.5 [STATUS]: `title` equals `message`); shaped as
        the real failed status ../shared/whatsapp-payloads/status_failed_130472.json."""
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details},
            "href": ERROR_CODES_URL,
        }


# Titles and reasons from Meta's error-code table (§7 [ERROR-CODES]).
RE_ENGAGEMENT = Refusal(
    131047,
    "Re-engagement message",
    "Message failed to send because more than 24 hours have passed since the customer last replied to "
    "this number.",
)
# A customer who stopped marketing messages gets no marketing template: Meta's 131050 (§7 [ERROR-CODES]),
# its title and reason in the sandbox's words.
MARKETING_STOPPED = Refusal(
    131050,
    "User has stopped marketing messages",
    "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on "
    "WhatsApp from your business.",
)
# A number that moved away is no longer a WhatsApp number: the first reason Meta lists for 131026.
UNDELIVERABLE = Refusal(
    131026,
    "Message undeliverable",
    "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone "
    "number; the recipient has not accepted the Terms of Service; the recipient's WhatsApp is too old.",
)


class GraphError(Exception):
    """A refusal answered as Meta answers it: an HTTP status and an error object."""

    def __init__(self, status: int, error: Json):
        super().__init__(error.get("message"))
        self.status = status
        self.error = error


def _invalid(details: str) -> GraphError:
    return GraphError(400, graph_error(100, "(#100) Invalid parameter", details))


def new_wamid() -> str:
    """Shaped like Meta's: base64 starting `HBgL`, so it carries `+`, `/` and `=` as real ones do."""
    return "wamid." + base64.b64encode(b"\x1c\x18\x0b" + secrets.token_bytes(28)).decode()


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


# Meta takes a phone number with `+`, `-`, `(`, `)` and spaces around its digits (§5, [SEND-GUIDE]).
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{4,30}")
# Business-scoped user ids are opaque: up to 256 letters, digits and separators, some letters (§0).
_USER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9._-]{0,255}")


def customer_key(raw: str) -> str | None:
    """Who a customer is to the sandbox: a phone number's digits, or a business-scoped user id as it is."""
    if _PHONE.fullmatch(raw):
        return _digits(raw)
    if _USER_ID.fullmatch(raw):
        return raw
    return None


def _identity(key: str) -> tuple[Json, Json]:
    """The `contacts[]` entry and the message's sender fields for this customer: a username-only
    customer has an empty `wa_id` and `from`, and is named by `user_id` and `from_user_id` (§0, §3.2)."""
    if key.isdigit():
        return {"wa_id": key}, {"from": key}
    return {"wa_id": "", "user_id": key}, {"from": "", "from_user_id": key}


def _envelope(
    phone_number_id: str, value: Json, display_phone_number: str, waba_id: str, field_name: str = "messages"
) -> Json:
    metadata = {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id}
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": field_name,
                        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
                    }
                ],
            }
        ],
    }


def inbound_text_webhook(
    phone_number_id: str,
    wa_id: str,
    text: str,
    name: str,
    wamid: str,
    timestamp: int,
    *,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> Json:
    """The body Meta posts when a customer sends a text (WHATSAPP-NOTES.md §3; `text.json`); `wa_id`
    may be a business-scoped user id (`text_v25_username_bsuid_parent_bsuid.json`, without the phone)."""
    contact, sender = _identity(customer_key(wa_id) or wa_id)
    value = {
        "contacts": [{"profile": {"name": name}, **contact}],
        "messages": [
            {**sender, "id": wamid, "timestamp": str(timestamp), "type": "text", "text": {"body": text}}
        ],
    }
    return _envelope(phone_number_id, value, display_phone_number, waba_id)


def identity_change_webhook(
    phone_number_id: str,
    old: str,
    new: str,
    name: str,
    wamid: str,
    timestamp: int,
    *,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> Json:
    """The system message Meta posts when a customer changes number (`old`, `new` digits:
    `user_changed_number`, the new number in `system.wa_id`) or business-scoped user id (`old`, `new`
    user ids: `user_changed_user_id`, the new id in `system.user_id`). Built from Meta's example
    ../shared/whatsapp-payloads/system_user_changed_number.json (META-OPENAPI "System Message") and the
    system messages webhook reference
    (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/system/):
    no `contacts[]`, and a user id change "reports only the BSUID change; no phone number is included",
    so its `from` is empty and the old id is in `from_user_id`, as on other messages (§0 [BSUID])."""
    by_phone = new.isdigit()
    if by_phone != old.isdigit():
        raise ValueError("a number changes to a number, a user id to a user id")
    system = {
        "body": f"User {name} changed from {old} to {new}",
        "wa_id" if by_phone else "user_id": new,
        "type": "user_changed_number" if by_phone else "user_changed_user_id",
    }
    sender = _identity(old)[1]
    message = {**sender, "id": wamid, "timestamp": str(timestamp), "type": "system", "system": system}
    return _envelope(phone_number_id, {"messages": [message]}, display_phone_number, waba_id)


def user_preferences_webhook(
    phone_number_id: str,
    wa_id: str,
    value: str,
    name: str,
    timestamp: int,
    *,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> Json:
    """The body Meta posts when a customer stops (`value` "stop") or resumes ("resume") marketing
    messages, as its user_preferences webhook reference shows it: field `user_preferences`, the customer
    in `contacts[]` and in each preference, whose `timestamp` is an integer (strings elsewhere). A
    username-only customer is named by `user_id` with an empty `wa_id`, as in messages (§0 [BSUID])."""
    if value not in MARKETING_PREFERENCES:
        raise ValueError(f"a marketing preference is one of {', '.join(MARKETING_PREFERENCES)}")
    contact = _identity(customer_key(wa_id) or wa_id)[0]
    preference = {
        **contact,
        "detail": MARKETING_PREFERENCES[value],
        "category": "marketing_messages",
        "value": value,
        "timestamp": timestamp,
    }
    change = {"contacts": [{"profile": {"name": name}, **contact}], "user_preferences": [preference]}
    return _envelope(phone_number_id, change, display_phone_number, waba_id, "user_preferences")


def validate_send(body: object) -> Json:
    """The checks Meta makes before accepting a message; a failure is code 100 with the reason in details."""
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        raise _invalid('messaging_product must be "whatsapp".')
    to, recipient = body.get("to"), body.get("recipient")
    if to is None and recipient is None:
        raise _invalid("to (a phone number) or recipient (a business-scoped user id) is required.")
    if to is not None and not (isinstance(to, str) and _PHONE.fullmatch(to)):
        if isinstance(to, str) and _USER_ID.fullmatch(to):
            # The sandbox's wording: Meta documents `recipient` for user ids, not this refusal's text.
            raise _invalid("to must be a phone number; send a business-scoped user id in recipient.")
        raise _invalid("to must be the customer's phone number.")
    if to is None and not (isinstance(recipient, str) and _USER_ID.fullmatch(recipient)):
        raise _invalid("recipient must be a business-scoped user id.")
    if body.get("recipient_type", "individual") != "individual":
        raise _invalid('recipient_type must be "individual" (the sandbox has no groups).')
    kind = body.get("type", "text")  # Meta defaults the type to text
    if kind not in SEND_TYPES:
        raise _invalid(f"type {kind!r} is not supported; use one of {', '.join(sorted(SEND_TYPES))}.")
    content = body.get(kind)
    if not isinstance(content, dict):
        raise _invalid(f"The {kind} object is required.")
    if kind == "text":
        text = content.get("body")
        if not isinstance(text, str) or not 1 <= len(text) <= 4096:
            raise _invalid("text.body must be 1 to 4096 characters.")
    elif kind == "template":
        pass  # Meta's TemplateObject schema, then the template itself, judge it (check_send)
    elif kind == "reaction":
        message_id = content.get("message_id")
        if not isinstance(message_id, str) or not message_id or not isinstance(content.get("emoji", ""), str):
            raise _invalid("reaction needs message_id and an emoji (empty removes the reaction).")
    else:
        link, media_id = content.get("link"), content.get("id")
        if link is None and media_id is None:
            raise _invalid(f"{kind} needs a link or an id.")
        if link is not None and not (isinstance(link, str) and link.startswith("https://")):
            raise _invalid(f"{kind}.link must be an https URL.")
        if media_id is not None and not (isinstance(media_id, str) and media_id):
            raise _invalid(f"{kind}.id must be a media id.")
    _meta_describes(body)
    return body


def _meta_describes(body: Json) -> None:
    """Meta's OpenAPI document must describe the body (devhost/meta_openapi.py); else code 100 with
    what it finds wrong, as `where: what`."""
    found = meta_problems(body)
    if found:
        shown = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        raise _invalid(f"Meta's OpenAPI document refuses this body: {shown}")


def _template_refused(refusal: TemplateRefusal) -> GraphError:
    return GraphError(400, graph_error(refusal.code, f"(#{refusal.code}) {refusal.title}", refusal.details))


def _pricing(template: Template | None, window_open: bool) -> Json:
    """PMP pricing on a status: service messages and utility templates inside the window are free;
    other templates are billed by their category ([PRICING], WHATSAPP-NOTES.md §8)."""
    if template is None:
        return dict(SERVICE_PRICING)
    category = template.category.lower()
    if category == "utility" and window_open:
        return {**SERVICE_PRICING, "category": category}
    return {"billable": True, "pricing_model": "PMP", "type": "regular", "category": category}


def _kind_of(mime_type: str) -> str:
    """The WhatsApp message type that carries a file of this type."""
    if mime_type == "image/webp":
        return "sticker"
    top = mime_type.split("/")[0]
    return top if top in ("image", "video", "audio") else "document"


def _graph_version(version: str) -> int:
    match = re.fullmatch(r"v(\d+)\.\d+", version)
    if not match:
        raise GraphError(400, graph_error(2500, f"Unknown path components: /{version}"))
    return int(match.group(1))


def _json_response(status: int, body: object) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _json_body(request: Request) -> object:
    try:
        return json.loads(request.get_data())
    except ValueError:
        raise _invalid("The request body is not valid JSON.") from None


def _graph_parameters(request: Request) -> dict[str, object]:
    """Graph takes parameters in the query string, a form or a JSON body; later ones win."""
    fields: dict[str, object] = {**request.args, **request.form}
    if request.mimetype == "application/json" and request.get_data():
        body = _json_body(request)
        if not isinstance(body, dict):
            raise _invalid("The request body must be a JSON object.")
        fields.update(body)
    return fields


def _callback_refusal(url: str) -> str | None:
    """Meta calls only https callbacks with a valid certificate (§1); the sandbox also calls the local
    app over plain http on this machine. None when the URL will do."""
    parts = urlsplit(url)
    if len(url) > MAX_CALLBACK_CHARS:
        return f"override_callback_uri is longer than {MAX_CALLBACK_CHARS} characters."
    if not parts.hostname or parts.scheme not in ("https", "http"):
        return "override_callback_uri must be an https URL."
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return "override_callback_uri must be an https URL (the sandbox also takes http on this machine)."
    return None


def _move(state: dict[str, T], old: str, new: str) -> None:
    """What the sandbox knew under `old` is known under `new` instead (and nothing else is)."""
    state.pop(new, None)
    if old in state:
        state[new] = state.pop(old)


@dataclass
class SentMessage:
    """A message the app sent, and the statuses the app has acknowledged for it so far.

    `to` is whom it reached (a phone number's digits, or a user id); `request` is the body as sent."""

    wamid: str
    phone_number_id: str
    to: str
    wa_id: str
    type: str
    request: Json
    sent_at: int
    statuses: list[str] = field(default_factory=list)
    user_id: str | None = None
    refused_with: int | None = None  # Meta accepted it, then reported `failed` with this code
    template: Json | None = None  # a template send: its name, language and category
    text: str | None = None  # a template send: what the customer reads
    pricing: Json = field(default_factory=lambda: dict(SERVICE_PRICING))


@dataclass(frozen=True)
class Receipt:
    """The app marked a customer's message read (`typing`: and showed a typing indicator)."""

    customer: str
    message_id: str
    typing: bool
    at: int
    phone_number_id: str


@dataclass(frozen=True)
class AppAnswer:
    """The app's answer to a webhook the sandbox posted."""

    app_status: int
    app_body: str


@dataclass(frozen=True)
class CustomerMessage:
    """What happened when a customer wrote: the message id and the app's answer to the webhook."""

    wamid: str
    app_status: int
    app_body: str


class WhatsAppSandbox:
    """WSGI application emulating the Graph send API, the customer and Meta's webhooks.

    `status_delays` are the pauses before each of sent, delivered and read (fewer delays, fewer
    statuses: a phone that is off never says delivered). `retry_delays` are the pauses between
    attempts when the app does not answer a status webhook with 200. `clock` is the sandbox's now,
    in Unix seconds: it drives the 24-hour window and the webhook timestamps. `refusals` is how Meta's
    refusals (131047 outside the window, 131026 to a number that moved away) reach the app unless a
    customer's own is set: "response" (HTTP 400) or "webhook" (200, then a `failed` status).
    """

    def __init__(
        self,
        webhook_url: str,
        app_secret: str,
        access_token: str,
        phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
        status_delays: tuple[float, ...] = (0.3, 0.6, 0.9),
        clock: Callable[[], float] = time.time,
        retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0),
        timeout: float = 10.0,
        refusals: Refusals = "response",
    ):
        self.webhook_url = webhook_url
        self.app_secret = app_secret
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.status_delays = status_delays
        self.clock = clock
        self.retry_delays = retry_delays
        self.timeout = timeout
        self.refusals = refusals
        self._lock = threading.Lock()
        self._last_inbound: dict[str, float] = {}
        self._closed_early: dict[str, float] = {}  # customer -> when expire_window ended the window
        self._refusals_of: dict[str, Refusals] = {}  # customer -> how their refusals reach the app
        self._moved: dict[str, str] = {}  # an old number or user id -> the customer's new one
        self._sent: list[SentMessage] = []
        self._well_formed: list[Json] = []
        self._faults: deque[tuple[int, Json]] = deque()
        self._media: dict[str, tuple[bytes, str]] = {}  # media id -> (bytes, mime type)
        self._subscribed: dict[str, Json] = {}  # WABA id -> its subscription (override callback)
        self._templates: list[Template] = sandbox_templates()  # the WABA's, each in one language
        self._inbound: dict[str, str] = {}  # a customer message's wamid -> the customer
        self._receipts: list[Receipt] = []
        self._marketing_stopped: dict[str, bool] = {}  # customer -> stopped marketing messages
        self._status_threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._server: BaseWSGIServer | None = None
        self.url_map = Map(
            [
                Rule("/<version>/<phone_number_id>/messages", endpoint="send", methods=["POST"]),
                Rule("/sandbox/customers/<wa_id>/messages", endpoint="customer", methods=["POST"]),
                Rule("/sandbox/messages", endpoint="messages", methods=["GET"]),
                Rule("/<version>/<phone_number_id>/media", endpoint="upload", methods=["POST"]),
                Rule("/<version>/<media_id>", endpoint="media_location", methods=["GET"]),
                Rule("/sandbox/media/<media_id>", endpoint="media_download", methods=["GET"]),
                Rule("/sandbox/customers/<wa_id>/media", endpoint="customer_media", methods=["POST"]),
                Rule("/sandbox/customers/<wa_id>/change-number", endpoint="change_number", methods=["POST"]),
                Rule(
                    "/sandbox/customers/<wa_id>/change-user-id", endpoint="change_user_id", methods=["POST"]
                ),
                Rule("/sandbox/customers/<wa_id>/expire-window", endpoint="expire_window", methods=["POST"]),
                Rule("/<version>/<waba_id>/subscribed_apps", endpoint="subscribe", methods=["POST"]),
                Rule("/<version>/<waba_id>/subscribed_apps", endpoint="subscribed_apps", methods=["GET"]),
                Rule("/<version>/<waba_id>/message_templates", endpoint="templates", methods=["GET"]),
                Rule("/sandbox/receipts", endpoint="receipts", methods=["GET"]),
                Rule("/sandbox/customers/<wa_id>/marketing", endpoint="marketing", methods=["POST"]),
                Rule("/sandbox/template-status", endpoint="template_status", methods=["POST"]),
            ],
            strict_slashes=False,
        )
        self._handlers: dict[str, Callable[..., Response]] = {
            "send": self._send,
            "customer": self._customer,
            "messages": self._messages,
            "upload": self._upload,
            "media_location": self._media_location,
            "media_download": self._media_download,
            "customer_media": self._customer_media,
            "change_number": self._change_number,
            "change_user_id": self._change_user_id,
            "expire_window": self._expire_window,
            "subscribe": self._subscribe,
            "subscribed_apps": self._subscribed_apps,
            "templates": self._message_templates,
            "receipts": self._receipts_view,
            "marketing": self._marketing,
            "template_status": self._template_status,
        }

    # Python API -----------------------------------------------------------------------------------

    @property
    def sent(self) -> list[SentMessage]:
        with self._lock:
            return list(self._sent)

    @property
    def well_formed(self) -> list[Json]:
        """Every send body that passed the sandbox's checks, whether then sent or refused (the window,
        an injected fault): what a test can hold against Meta's own description of a send."""
        with self._lock:
            return list(self._well_formed)

    def fail_next(self, status: int, error: Json) -> None:
        """Answer the next authorised, well-formed send with this error (e.g. 131056, 130429, a 5xx)."""
        with self._lock:
            self._faults.append((status, error))

    @property
    def receipts(self) -> list[Receipt]:
        """Every read receipt (and typing indicator) the app sent, oldest first."""
        with self._lock:
            return list(self._receipts)

    @property
    def templates(self) -> list[Json]:
        """The WABA's templates as Graph lists them, whatever their status."""
        with self._lock:
            return [template.listed() for template in self._templates]

    def customer_says(
        self, wa_id: str, text: str, name: str = DEFAULT_CUSTOMER_NAME, phone_number_id: str | None = None
    ) -> CustomerMessage:
        """The customer (a phone number, or a user id) writes: the window opens (or refreshes) at once,
        then the webhook is posted once, synchronously, so the caller sees the app's answer. Raises
        `requests.RequestException` if the app cannot be reached."""
        wa_id = self._customer_id(wa_id)
        now = self.clock()
        wamid = new_wamid()
        with self._lock:
            self._opened(wa_id, now)
            self._inbound[wamid] = wa_id
        payload = inbound_text_webhook(
            phone_number_id or self.phone_number_id, wa_id, text, name, wamid, int(now)
        )
        response = self._post(payload)
        return CustomerMessage(wamid, response.status_code, response.text)

    def customer_sends_media(
        self,
        wa_id: str,
        content: bytes,
        mime_type: str,
        caption: str | None = None,
        filename: str | None = None,
        name: str = DEFAULT_CUSTOMER_NAME,
    ) -> CustomerMessage:
        """The customer sends a file: Meta keeps it under a media id, and the webhook names only that id."""
        wa_id = self._customer_id(wa_id)
        now = self.clock()
        media_id = str(secrets.randbelow(10**16))
        wamid = new_wamid()
        with self._lock:
            self._opened(wa_id, now)
            self._media[media_id] = (content, mime_type)
            self._inbound[wamid] = wa_id
        kind = _kind_of(mime_type)
        media: Json = {
            "mime_type": mime_type,
            "sha256": base64.b64encode(hashlib.sha256(content).digest()).decode(),
            "id": media_id,
        }
        if caption and kind in ("image", "video", "document"):
            media["caption"] = caption
        if kind == "document":
            media["filename"] = filename or "document"
        contact, sender = _identity(wa_id)
        message = {**sender, "id": wamid, "timestamp": str(int(now)), "type": kind, kind: media}
        value = {"contacts": [{"profile": {"name": name}, **contact}], "messages": [message]}
        response = self._post(_envelope(self.phone_number_id, value, DISPLAY_PHONE_NUMBER, WABA_ID))
        return CustomerMessage(wamid, response.status_code, response.text)

    def change_number(self, wa_id: str, new_wa_id: str, name: str = DEFAULT_CUSTOMER_NAME) -> CustomerMessage:
        """The customer moves to another number: Meta posts `user_changed_number` from the old one,
        and from then on knows them only by the new one (their window goes with them)."""
        return self._change_id(wa_id, new_wa_id, name, phone=True)

    def change_user_id(
        self, user_id: str, new_user_id: str, name: str = DEFAULT_CUSTOMER_NAME
    ) -> CustomerMessage:
        """A username-only customer's business-scoped user id changes (`user_changed_user_id`)."""
        return self._change_id(user_id, new_user_id, name, phone=False)

    def customer_sets_marketing(
        self, wa_id: str, value: str, name: str = DEFAULT_CUSTOMER_NAME, phone_number_id: str | None = None
    ) -> AppAnswer:
        """The customer stops ("stop") or resumes ("resume") marketing messages in WhatsApp: Meta posts
        its user_preferences webhook, and from a stop on refuses marketing templates to them (131050).
        Raises ValueError for another value, `requests.RequestException` if the app cannot be reached."""
        key = self._customer_id(wa_id)
        payload = user_preferences_webhook(
            phone_number_id or self.phone_number_id, key, value, name, int(self.clock())
        )
        with self._lock:
            self._marketing_stopped[key] = value == "stop"
        response = self._post(payload)
        return AppAnswer(response.status_code, response.text)

    def template_status(
        self, name: str, language: str, event: str, reason: str | None = None
    ) -> tuple[Json, AppAnswer]:
        """Meta's review (or quality rating) changes a template: its status follows `event`, and the
        message_template_status_update webhook is posted. Answers the template as Graph now lists it and
        the app's answer. Raises ValueError for an event, reason or template the sandbox does not know."""
        if event not in STATUS_EVENTS:
            raise ValueError(f"event must be one of {', '.join(STATUS_EVENTS)}")
        reason = reason or "NONE"
        if reason not in REJECTION_REASONS:
            raise ValueError(f"reason must be one of {', '.join(sorted(REJECTION_REASONS))}")
        with self._lock:
            template = next((t for t in self._templates if (t.name, t.language) == (name, language)), None)
            if template is None:
                raise ValueError(f"the sandbox has no template {name} in {language}")
            template.status = STATUS_EVENTS[event] or template.status
            listed = template.listed()
            payload = status_update_webhook(WABA_ID, template, event, reason, int(self.clock()))
        response = self._post(payload)
        return listed, AppAnswer(response.status_code, response.text)

    def expire_window(self, wa_id: str, refusals: Refusals | None = None) -> None:
        """End the customer's 24-hour window now, as if a day had passed since they wrote, without
        touching the clock; `refusals` sets how their refusals reach the app from now on."""
        key = self._customer_id(wa_id)
        with self._lock:
            self._closed_early[key] = self.clock()
            if refusals is not None:
                self._refusals_of[key] = refusals

    def _change_id(self, old: str, new: str, name: str, *, phone: bool) -> CustomerMessage:
        old_key, new_key = self._customer_id(old), self._customer_id(new)
        if old_key.isdigit() is not phone or new_key.isdigit() is not phone:
            raise ValueError("change_number takes two numbers, change_user_id two user ids")
        if old_key == new_key:
            raise ValueError(f"{old!r} is already the customer's id")
        now = self.clock()
        with self._lock:
            if old_key in self._moved:  # Meta hears nothing more from an id that moved away
                raise ValueError(f"{old!r} already changed to {self._moved[old_key]!r}")
            # Meta moves the person, so the window (and how their refusals arrive) goes with them.
            _move(self._last_inbound, old_key, new_key)
            _move(self._closed_early, old_key, new_key)
            _move(self._refusals_of, old_key, new_key)
            _move(self._marketing_stopped, old_key, new_key)
            self._moved[old_key] = new_key
            self._moved.pop(new_key, None)
        wamid = new_wamid()
        payload = identity_change_webhook(self.phone_number_id, old_key, new_key, name, wamid, int(now))
        response = self._post(payload)
        return CustomerMessage(wamid, response.status_code, response.text)

    def _opened(self, key: str, now: float) -> None:
        """The customer wrote (under the lock): their window opens, and an id that had moved away is
        in use again (a number is reassigned, say)."""
        self._last_inbound[key] = now
        self._closed_early.pop(key, None)
        self._moved.pop(key, None)

    def _refusal(self, key: str, now: float, template: Template | None = None) -> Refusal | None:
        """Why Meta would not deliver to this customer now (under the lock), or None. A template needs
        no open window, but a marketing one no stop from the customer."""
        if key in self._moved:
            return UNDELIVERABLE
        if template is not None:
            stopped = template.category == "MARKETING" and self._marketing_stopped.get(key, False)
            return MARKETING_STOPPED if stopped else None
        return None if self._window_open(key, now) else RE_ENGAGEMENT

    def _window_open(self, key: str, now: float) -> bool:
        last = self._last_inbound.get(key)
        return last is not None and now - last <= WINDOW_SECONDS and key not in self._closed_early

    @staticmethod
    def _customer_id(raw: str) -> str:
        key = customer_key(raw)
        if key is None:
            raise ValueError(f"{raw!r} is neither a phone number nor a business-scoped user id")
        return key

    def wait_for_statuses(self, timeout: float = 10.0) -> bool:
        """Block until every status webhook scheduled so far is posted (or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._status_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    # Serving --------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not serving; call start_in_background() first")
        return f"http://{self._server.host}:{self._server.port}"

    def start_in_background(self, host: str = "127.0.0.1", port: int = 0) -> None:
        server = self._server = make_server(host, port, self, threaded=True)
        # A short poll interval makes stop() quick; shutdown() waits for the serving loop to notice.
        serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        serve.start()

    def stop(self) -> None:
        """Stop serving and cancel pending status webhooks."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.wait_for_statuses(timeout=self.timeout)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except GraphError as refusal:
            trace = base64.urlsafe_b64encode(secrets.token_bytes(9)).decode()
            response = _json_response(refusal.status, {"error": {**refusal.error, "fbtrace_id": trace}})
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        try:
            endpoint, args = self.url_map.bind_to_environ(request.environ).match()
        except HTTPException as error:
            message = f"(#100) Unsupported {request.method.lower()} request: {request.path}"
            raise GraphError(error.code or 404, graph_error(100, message)) from None
        return self._handlers[endpoint](request, **args)

    # Endpoints ------------------------------------------------------------------------------------

    def _send(self, request: Request, version: str, phone_number_id: str) -> Response:
        graph_version = _graph_version(version)
        self._authorised(request)
        raw = _json_body(request)
        if isinstance(raw, dict) and "type" not in raw and "status" in raw:
            return self._mark_read(raw, phone_number_id)
        body = validate_send(raw)
        template: Template | None = None
        rendered: str | None = None
        with self._lock:
            if body.get("type") == "template":
                try:
                    template, rendered = check_send(self._templates, body["template"])
                except TemplateRefusal as refused:
                    raise _template_refused(refused) from None
            self._well_formed.append(body)
        by_phone = body.get("to") is not None  # `to` wins when both are given
        customer = _digits(body["to"]) if by_phone else body["recipient"]
        if by_phone and not body["to"].lstrip().startswith("+"):
            customer = BUSINESS_COUNTRY_CODE + customer
        contact = (
            {"input": body["to"], "wa_id": customer} if by_phone else {"input": customer, "user_id": customer}
        )
        with self._lock:
            if self._faults:
                status, error = self._faults.popleft()
                raise GraphError(status, error)
            now = self.clock()
            refusal = self._refusal(customer, now, template)
            if refusal is not None and self._refusals_of.get(customer, self.refusals) == "response":
                raise GraphError(400, refusal.graph_error())
            window_open = self._window_open(customer, now)
            record = SentMessage(
                new_wamid(),
                phone_number_id,
                customer,
                customer if by_phone else "",
                body.get("type", "text"),
                body,
                int(now),
                user_id=None if by_phone else customer,
                refused_with=refusal.code if refusal else None,
                template=(
                    {"name": template.name, "language": template.language, "category": template.category}
                    if template
                    else None
                ),
                text=rendered,
                pricing=_pricing(template, window_open),
            )
            self._sent.append(record)
            # The conversation a status names ends with the window, or a day after a template opens one.
            closes_at = self._last_inbound[customer] + WINDOW_SECONDS if window_open else now + WINDOW_SECONDS
            post: Callable[[], None] = (
                partial(self._post_failure, record, refusal)
                if refusal
                else partial(self._post_statuses, record, graph_version, closes_at)
            )
            thread = threading.Thread(target=post, name=f"statuses:{record.wamid}", daemon=True)
            self._status_threads = [t for t in self._status_threads if t.is_alive()] + [thread]
            thread.start()  # under the lock, so wait_for_statuses never joins an unstarted thread
        return _json_response(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": record.wamid}],
            },
        )

    def _mark_read(self, raw: Json, phone_number_id: str) -> Response:
        """`{"status": "read", "message_id"}`, with `"typing_indicator": {"type": "text"}` or not
        ([MARK-READ], [TYPING]): recorded for the customer who sent that message. A message id the
        number never received is refused (the sandbox's wording; Meta's is not documented)."""
        _meta_describes(raw)
        message_id = raw["message_id"]
        with self._lock:
            customer = self._inbound.get(message_id)
            if customer is None:
                raise _invalid(
                    f"message_id {message_id[:100]} is not a message a customer sent to this number."
                )
            typing = "typing_indicator" in raw
            self._receipts.append(Receipt(customer, message_id, typing, int(self.clock()), phone_number_id))
        return _json_response(200, {"success": True})

    def _receipts_view(self, request: Request) -> Response:
        """`GET /sandbox/receipts`: the read receipts and typing indicators, per customer."""
        by_customer: dict[str, list[Json]] = {}
        with self._lock:
            for receipt in self._receipts:
                by_customer.setdefault(receipt.customer, []).append(
                    {"message_id": receipt.message_id, "typing_indicator": receipt.typing, "at": receipt.at}
                )
        conversations = [{**_identity(key)[0], "receipts": items} for key, items in by_customer.items()]
        return _json_response(200, {"conversations": conversations})

    def _message_templates(self, request: Request, version: str, waba_id: str) -> Response:
        """`GET /{WABA-ID}/message_templates` as Graph answers it: `data` and `paging`
        (devhost/sandbox_templates.py); only for the sandbox's WABA."""
        _graph_version(version)
        self._authorised(request)
        if waba_id != WABA_ID:
            raise _unknown_object(request.method, waba_id)
        params = {key: request.args[key] for key in request.args}
        page_url = f"{request.host_url}{version}/{waba_id}/message_templates"
        try:
            with self._lock:
                answer = listing(self._templates, params, page_url)
        except ListingError as error:
            raise _invalid(str(error)) from None
        return _json_response(200, answer)

    def _marketing(self, request: Request, wa_id: str) -> Response:
        """`{"value": "stop" | "resume", "name": optional}`: posts Meta's user_preferences webhook;
        answers with the app's answer to it."""
        raw = _json_body(request)
        body = raw if isinstance(raw, dict) else {}
        value, name = body.get("value"), body.get("name")
        if (
            customer_key(wa_id) is None
            or value not in MARKETING_PREFERENCES
            or not isinstance(name, str | None)
        ):
            raise _invalid(
                'Post {"value": "stop" or "resume", "name": optional} to '
                "/sandbox/customers/{digits or user id}/marketing."
            )
        try:
            answer = self.customer_sets_marketing(wa_id, str(value), name or DEFAULT_CUSTOMER_NAME)
        except requests.RequestException as error:
            raise GraphError(
                502, graph_error(2, f"The app at {self.webhook_url} is unreachable: {error}")
            ) from None
        return _json_response(
            200, {**_identity(self._customer_id(wa_id))[0], "marketing": value, **asdict(answer)}
        )

    def _template_status(self, request: Request) -> Response:
        """`{"name", "language", "event", "reason": optional}`: the template's status follows the event
        and Meta's message_template_status_update webhook is posted; answers the template as now listed
        and the app's answer."""
        raw = _json_body(request)
        body = raw if isinstance(raw, dict) else {}
        name, language, event, reason = (body.get(k) for k in ("name", "language", "event", "reason"))
        usage = (
            'Post {"name": "<template>", "language": "en_US", "event": "APPROVED", "reason": optional} to '
            "/sandbox/template-status."
        )
        if not (isinstance(name, str) and isinstance(language, str) and isinstance(event, str)):
            raise _invalid(usage)
        if not isinstance(reason, str | None):
            raise _invalid(usage)
        try:
            listed, answer = self.template_status(name, language, event, reason)
        except ValueError as error:
            raise _invalid(f"{error}. {usage}") from None
        except requests.RequestException as error:
            raise GraphError(
                502, graph_error(2, f"The app at {self.webhook_url} is unreachable: {error}")
            ) from None
        return _json_response(200, {"template": listed, **asdict(answer)})

    def _customer(self, request: Request, wa_id: str) -> Response:
        raw = _json_body(request)
        body = raw if isinstance(raw, dict) else {}
        text, name, number = body.get("text"), body.get("name"), body.get("phone_number_id")
        if customer_key(wa_id) is None or not isinstance(text, str) or not text:
            raise _invalid(
                'Post {"text": "...", "name": optional} to /sandbox/customers/{digits or user id}/messages.'
            )
        if not isinstance(name, str | None) or not isinstance(number, str | None):
            raise _invalid("name and phone_number_id must be strings.")
        try:
            said = self.customer_says(wa_id, text, name or DEFAULT_CUSTOMER_NAME, number)
        except requests.RequestException as error:
            raise GraphError(
                502, graph_error(2, f"The app at {self.webhook_url} is unreachable: {error}")
            ) from None
        return _json_response(200, asdict(said))

    def _change_number(self, request: Request, wa_id: str) -> Response:
        """`{"to": "<new number>", "name": optional}`: posts `user_changed_number`; answers as customer
        messages do, with the app's answer to the webhook."""
        return self._changed(request, wa_id, phone=True)

    def _change_user_id(self, request: Request, wa_id: str) -> Response:
        """`{"to": "<new user id>", "name": optional}`: posts `user_changed_user_id`."""
        return self._changed(request, wa_id, phone=False)

    def _changed(self, request: Request, wa_id: str, *, phone: bool) -> Response:
        raw = _json_body(request)
        body = raw if isinstance(raw, dict) else {}
        new, name = body.get("to"), body.get("name")
        what, path = ("number", "change-number") if phone else ("user id", "change-user-id")
        usage = (
            f'Post {{"to": "<the new {what}>", "name": optional}} to /sandbox/customers/{{{what}}}/{path}.'
        )
        if not isinstance(new, str) or not isinstance(name, str | None):
            raise _invalid(usage)
        try:
            changed = self._change_id(wa_id, new, name or DEFAULT_CUSTOMER_NAME, phone=phone)
        except ValueError as error:
            raise _invalid(f"{error}. {usage}") from None
        except requests.RequestException as error:
            raise GraphError(
                502, graph_error(2, f"The app at {self.webhook_url} is unreachable: {error}")
            ) from None
        return _json_response(200, asdict(changed))

    def _expire_window(self, request: Request, wa_id: str) -> Response:
        """Ends the window now; `?refusal=webhook` (or `response`) sets how this customer is refused."""
        name = request.args.get("refusal")
        refusals = REFUSALS.get(name) if name is not None else None
        if customer_key(wa_id) is None or (name is not None and refusals is None):
            raise _invalid(
                "Post to /sandbox/customers/{digits or user id}/expire-window, optionally with "
                f"?refusal= one of {', '.join(REFUSALS)}."
            )
        self.expire_window(wa_id, refusals)
        key = self._customer_id(wa_id)
        with self._lock:
            closed, now_refused_by = self._closed_early[key], self._refusals_of.get(key, self.refusals)
        return _json_response(
            200, {**_identity(key)[0], "window_closes_at": int(closed), "refusals": now_refused_by}
        )

    def _messages(self, request: Request) -> Response:
        with self._lock:
            sent = [asdict(record) for record in self._sent]
            customers = [
                {
                    **_identity(key)[0],
                    "last_message_at": int(at),
                    "window_closes_at": int(self._closed_early.get(key, at + WINDOW_SECONDS)),
                    "refusals": self._refusals_of.get(key, self.refusals),
                }
                for key, at in self._last_inbound.items()
            ]
            moved = [{"from": old, "to": new} for old, new in self._moved.items()]
        return _json_response(200, {"messages": sent, "customers": customers, "moved": moved})

    def _authorised(self, request: Request) -> None:
        if not self.access_token or request.headers.get("Authorization") != f"Bearer {self.access_token}":
            raise GraphError(401, INVALID_TOKEN)

    def _upload(self, request: Request, version: str, phone_number_id: str) -> Response:
        """`POST /{phone-number-id}/media`: multipart `file`, `type`, `messaging_product`."""
        _graph_version(version)
        self._authorised(request)
        part = request.files.get("file")
        mime_type = request.form.get("type") or (part.mimetype if part else "")
        if part is None or request.form.get("messaging_product") != "whatsapp" or not mime_type:
            raise _invalid("Upload multipart/form-data with file, type and messaging_product=whatsapp.")
        media_id = str(secrets.randbelow(10**16))
        with self._lock:
            self._media[media_id] = (part.read(), mime_type)
        return _json_response(200, {"id": media_id})

    def _media_location(self, request: Request, version: str, media_id: str) -> Response:
        """`GET /{media-id}`: where to download it (Meta's URL lasts 5 minutes and needs the token)."""
        _graph_version(version)
        self._authorised(request)
        with self._lock:
            found = self._media.get(media_id)
        if found is None:
            raise GraphError(
                404, graph_error(100, "(#100) Invalid parameter", f"Unknown media id {media_id}")
            )
        content, mime_type = found
        return _json_response(
            200,
            {
                "messaging_product": "whatsapp",
                "url": f"{request.host_url}sandbox/media/{media_id}",
                "mime_type": mime_type,
                "sha256": hashlib.sha256(content).hexdigest(),
                "file_size": len(content),
                "id": media_id,
            },
        )

    def _media_download(self, request: Request, media_id: str) -> Response:
        self._authorised(request)
        with self._lock:
            found = self._media.get(media_id)
        if found is None:
            return Response(status=404)
        content, mime_type = found
        return Response(content, mimetype=mime_type)

    def _customer_media(self, request: Request, wa_id: str) -> Response:
        """The customer sends a file: raw body with Content-Type, optional X-Caption and X-Filename."""
        mime_type = request.mimetype
        if customer_key(wa_id) is None or not request.data or not mime_type:
            raise _invalid(
                "Post the file's bytes with its Content-Type to /sandbox/customers/{digits}/media."
            )
        try:
            said = self.customer_sends_media(
                wa_id,
                request.get_data(),
                mime_type,
                request.headers.get("X-Caption"),
                request.headers.get("X-Filename"),
            )
        except requests.RequestException as error:
            raise GraphError(
                502, graph_error(2, f"The app at {self.webhook_url} is unreachable: {error}")
            ) from None
        return _json_response(200, asdict(said))

    @property
    def subscriptions(self) -> dict[str, Json]:
        """What POST /{WABA-ID}/subscribed_apps stored, by WABA id."""
        with self._lock:
            return {waba: dict(subscription) for waba, subscription in self._subscribed.items()}

    def _subscribe(self, request: Request, version: str, waba_id: str) -> Response:
        """`POST /{WABA-ID}/subscribed_apps` [OVERRIDE]: subscribes the app to the WABA's webhooks; with
        `override_callback_uri` and `verify_token` (both required then) it sets the WABA's alternate
        callback, which Meta first verifies with the GET handshake. Meta's requirement, "make sure your
        app is subscribed to webhooks on the WABA" before setting one, is enforced (the refusal's wording
        is the one developers report)."""
        _graph_version(version)
        self._authorised(request)
        if waba_id != WABA_ID:
            raise _unknown_object(request.method, waba_id)
        fields = _graph_parameters(request)
        callback, token = fields.get("override_callback_uri"), fields.get("verify_token")
        if callback is None:
            with self._lock:
                self._subscribed.setdefault(waba_id, {})
            return _json_response(200, {"success": True})
        if not isinstance(callback, str) or (refusal := _callback_refusal(callback)):
            raise _invalid(
                refusal if isinstance(callback, str) and refusal else "override_callback_uri must be a URL."
            )
        if not isinstance(token, str) or not token:
            raise _invalid("verify_token is required with override_callback_uri.")
        with self._lock:
            subscribed = waba_id in self._subscribed
        if not subscribed:
            message = (
                "(#100) Before override the current callback uri, your app must be subscribed to receive "
                "messages for WhatsApp Business Account"
            )
            raise GraphError(400, graph_error(100, message))
        self._verify_callback(callback, token)
        with self._lock:
            self._subscribed[waba_id] = {"override_callback_uri": callback}
        return _json_response(200, {"success": True})

    def _verify_callback(self, callback: str, verify_token: str) -> None:
        """Meta's verification request (WHATSAPP-NOTES.md §1): `GET <callback>?hub.mode=subscribe&
        hub.challenge=<an int>&hub.verify_token=<token>`; only a 200 whose body is the challenge passes."""
        challenge = str(secrets.randbelow(9 * 10**9) + 10**9)
        params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
        try:
            answer = requests.get(callback, params=params, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException:
            raise _callback_unverified("Couldn't connect to server; HTTP Status Code = 0") from None
        if answer.status_code != 200:
            raise _callback_unverified(
                f"HTTP Status Code = {answer.status_code}; HTTP Message = {_phrase(answer.status_code)}"
            )
        if answer.text != challenge:
            raise _callback_unverified(
                f'Response does not match challenge, expected value="{challenge}", '
                f'received="{answer.text[:100]}"'
            )

    def _subscribed_apps(self, request: Request, version: str, waba_id: str) -> Response:
        """`GET /{WABA-ID}/subscribed_apps`: the apps subscribed to the WABA's webhooks, each with its
        `override_callback_uri` when one is set (Meta's example in [OVERRIDE] and in META-OPENAPI)."""
        _graph_version(version)
        self._authorised(request)
        if waba_id != WABA_ID:
            raise _unknown_object(request.method, waba_id)
        with self._lock:
            subscription = self._subscribed.get(waba_id)
        data = (
            []
            if subscription is None
            else [{"whatsapp_business_api_data": dict(SANDBOX_APP), **subscription}]
        )
        return _json_response(200, {"data": data})

    # Webhooks to the app --------------------------------------------------------------------------

    def _post(self, payload: Json) -> requests.Response:
        """Signed as Meta signs: HMAC-SHA256 of the exact bytes, JSON with escaped Unicode."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, self.app_secret)}
        return requests.post(self.webhook_url, data=body, headers=headers, timeout=self.timeout)

    def _post_statuses(self, record: SentMessage, graph_version: int, window_closes_at: float) -> None:
        """sent, delivered, read in order; a reaction gets only `sent`, as on Meta."""
        steps = ("sent",) if record.type == "reaction" else ("sent", "delivered", "read")
        conversation_id = uuid.uuid4().hex  # per message up to v23
        for step, delay in zip(steps, self.status_delays, strict=False):
            if self._stopping.wait(delay):
                return
            status = self._status(record, step)
            if step != "read":  # pricing rides on sent and one of delivered/read
                if graph_version < 24:  # v24 dropped `conversation` outside free-entry-point windows
                    free = record.pricing["type"] == "free_customer_service"
                    origin = "service" if free else record.pricing["category"]
                    status["conversation"] = {"id": conversation_id, "origin": {"type": origin}}
                    if step == "sent":
                        status["conversation"]["expiration_timestamp"] = str(int(window_closes_at))
                status["pricing"] = dict(record.pricing)
            self._post_status(record, status)

    def _post_failure(self, record: SentMessage, refusal: Refusal) -> None:
        """Meta accepted the message, then reports it `failed` with the reason in `errors[]`: the
        status reference's failed status (§3.5 [STATUS]; the real body
        ../shared/whatsapp-payloads/status_failed_130472.json) without `contacts[]`, which the BSUID
        guide says failed statuses do not carry, and without pricing, as nothing was delivered."""
        if self._stopping.wait(self.status_delays[0] if self.status_delays else 0.0):
            return
        self._post_status(record, {**self._status(record, "failed"), "errors": [refusal.status_error()]})

    def _status(self, record: SentMessage, step: str) -> Json:
        """The fields every status carries, and what the send asked Meta to echo back (§3.5)."""
        status: Json = {
            "id": record.wamid,
            "status": step,
            "timestamp": str(int(self.clock())),
            "recipient_id": record.wa_id,  # empty for a user id, named in recipient_user_id (§3.5)
        }
        if record.user_id:
            status["recipient_user_id"] = record.user_id
        callback = record.request.get("biz_opaque_callback_data")
        if isinstance(callback, str):
            status["biz_opaque_callback_data"] = callback
        return status

    def _post_status(self, record: SentMessage, status: Json) -> None:
        webhook = _envelope(record.phone_number_id, {"statuses": [status]}, DISPLAY_PHONE_NUMBER, WABA_ID)
        if self._deliver(webhook, f"{status['status']} of {record.wamid}"):
            with self._lock:
                record.statuses.append(status["status"])

    def _deliver(self, payload: Json, what: str) -> bool:
        """Meta retries anything but HTTP 200 with backoff (for 7 days); the sandbox gives up sooner."""
        attempts = 1 + len(self.retry_delays)
        for attempt in range(attempts):
            if attempt and self._stopping.wait(self.retry_delays[attempt - 1]):
                return False
            try:
                response = self._post(payload)
            except requests.RequestException as error:
                problem = str(error)
            else:
                if response.status_code == 200:
                    return True
                problem = f"HTTP {response.status_code} {response.text[:200]}"
            log.warning("webhook %s: attempt %d of %d failed: %s", what, attempt + 1, attempts, problem)
        log.error("webhook %s: gave up after %d attempts", what, attempts)
        return False
