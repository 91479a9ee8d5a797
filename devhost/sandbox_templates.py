"""The WhatsApp sandbox's message templates: what `GET /{WABA-ID}/message_templates` lists, and the
checks Meta makes on a template send before accepting it.

The templates are shaped as Meta returns them (the example response of `GET /{Version}/{WABA-ID}/
message_templates` in Meta's OpenAPI document, tests/fixtures/meta-openapi), built from Meta's
documented examples:

- [FUNDAMENTALS] Template fundamentals, parameter formats (positional `{{1}}`, named `{{first_name}}`
  with `parameter_format: NAMED` and `example.body_text_named_params`):
  https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/overview
- [COMPONENTS] Template components (text and media headers with `example.header_handle`, body, footer,
  quick-reply buttons, URL buttons whose `{{1}}` is a suffix given at send time):
  https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/components
- [OPENAPI] `hello_world` and the rejected `2023_april_promo` are the two templates of that example
  response, unchanged.

A send names a template by name and language; Meta refuses it synchronously (HTTP 400) when it cannot
be filled ([ERROR-CODES] https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/,
WHATSAPP-NOTES.md §7): 132001 when no approved template has that name in that language, 132000 when a
component gets more or fewer parameters than the template has variables, 132012 when a parameter is of
the wrong kind, 132015 / 132016 for a paused / disabled template. The titles are Meta's
("Template name does not exist in the translation", ...); the `details` follow what Meta sends
("body: number of localizable_params (0) does not match the expected number of params (1)",
"header: Format mismatch, expected IMAGE, received UNKNOWN"). Where Meta's documentation is silent
(a named parameter that is not one of the template's, a parameter name on a positional template) the
sandbox answers 132012, the code for "parameter format does not match".
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

Json = dict[str, Any]

Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
ParameterFormat = Literal["POSITIONAL", "NAMED"]

# `event` of message_template_status_update (Meta's webhook reference, [STATUS-UPDATE] below) -> the
# template's status afterwards; None leaves the status as it was (a flag or a lock is no new status).
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update
STATUS_EVENTS: dict[str, str | None] = {
    "APPROVED": "APPROVED",
    "REJECTED": "REJECTED",
    "PENDING": "PENDING",
    "PAUSED": "PAUSED",
    "DISABLED": "DISABLED",
    "REINSTATED": "APPROVED",
    "FLAGGED": None,
    "IN_APPEAL": "IN_APPEAL",
    "ARCHIVED": "ARCHIVED",
    "UNARCHIVED": "APPROVED",
    "PENDING_DELETION": "PENDING_DELETION",
    "DELETED": "DELETED",
    "LOCKED": None,
    "LIMIT_EXCEEDED": None,
}
# `reason` of that webhook: why a template was rejected, "NONE" otherwise (Meta's example of an approval).
REJECTION_REASONS = frozenset(
    {
        "ABUSIVE_CONTENT",
        "CATEGORY_NOT_AVAILABLE",
        "INCORRECT_CATEGORY",
        "INVALID_FORMAT",
        "NONE",
        "PROMOTIONAL",
        "SCAM",
        "TAG_CONTENT_MISMATCH",
    }
)
LISTED_FIELDS = ("name", "parameter_format", "components", "language", "status", "category", "id")
DEFAULT_PAGE_SIZE = 25  # Graph's default page size
MEDIA_FORMATS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}
BODY_PARAMETER_TYPES = frozenset({"text", "currency", "date_time"})
_POSITIONAL = re.compile(r"\{\{(\d+)\}\}")
_NAMED = re.compile(r"\{\{([a-z0-9_]+)\}\}")


@dataclass
class Template:
    """One template in one language, as `GET /{WABA-ID}/message_templates` lists it."""

    id: str
    name: str
    language: str
    category: Category
    status: str
    components: list[Json]
    parameter_format: ParameterFormat = "POSITIONAL"
    extra: Json = field(default_factory=dict)  # other fields Meta's example carries (previous_category)

    def listed(self, fields: Sequence[str] | None = None) -> Json:
        """Graph's view of the template: every field, or the asked-for ones and its `id` always."""
        everything: Json = {
            "name": self.name,
            "parameter_format": self.parameter_format,
            "components": copy.deepcopy(self.components),
            "language": self.language,
            "status": self.status,
            "category": self.category,
            **copy.deepcopy(self.extra),
            "id": self.id,
        }
        if fields is None:
            return everything
        return {key: value for key, value in everything.items() if key in fields or key == "id"}

    def component(self, kind: str) -> Json | None:
        return next((c for c in self.components if c["type"] == kind), None)

    def variables(self, text: str) -> list[str]:
        """The variables of a header or body text, each once, in order: "1", "2" or "first_name"."""
        pattern = _NAMED if self.parameter_format == "NAMED" else _POSITIONAL
        return list(dict.fromkeys(pattern.findall(text)))

    def buttons(self) -> list[Json]:
        found = self.component("BUTTONS")
        buttons: list[Json] = found["buttons"] if found else []
        return buttons


def _body(text: str, *examples: str) -> Json:
    return {"type": "BODY", "text": text, "example": {"body_text": [list(examples)]}}


def sandbox_templates() -> list[Template]:
    """A fresh copy of the sandbox WABA's templates (the sandbox changes their status)."""
    return [
        # [OPENAPI], unchanged: every WABA starts with it; the one template Meta's own "Send Test
        # Message" example sends.
        Template(
            "1192339204654487",
            "hello_world",
            "en_US",
            "MARKETING",
            "APPROVED",
            [
                {"format": "TEXT", "text": "Hello World", "type": "HEADER"},
                {
                    "text": "Welcome and congratulations!! This message demonstrates your ability to send a "
                    "message notification from WhatsApp Business Platform’s Cloud API. Thank you for "
                    "taking the time to test with us.",
                    "type": "BODY",
                },
                {"text": "WhatsApp Business API Team", "type": "FOOTER"},
            ],
            extra={"previous_category": "ACCOUNT_UPDATE"},
        ),
        # A UTILITY body with positional variables and its example values [FUNDAMENTALS][COMPONENTS];
        # in two languages, and pending review in a third.
        Template(
            "1468290164712334",
            "order_update",
            "en_US",
            "UTILITY",
            "APPROVED",
            [
                _body("Your order {{1}} ships on {{2}}.", "860198-230332", "May 31"),
                {"type": "FOOTER", "text": "Lucky Shrub"},
            ],
        ),
        Template(
            "1468290164712335",
            "order_update",
            "es_ES",
            "UTILITY",
            "APPROVED",
            [
                _body("Tu pedido {{1}} se envía el {{2}}.", "860198-230332", "31 de mayo"),
                {"type": "FOOTER", "text": "Lucky Shrub"},
            ],
        ),
        Template(
            "1468290164712336",
            "order_update",
            "de_DE",
            "UTILITY",
            "PENDING",
            [
                _body("Ihre Bestellung {{1}} wird am {{2}} versandt.", "860198-230332", "31. Mai"),
                {"type": "FOOTER", "text": "Lucky Shrub"},
            ],
        ),
        # NAMED parameters in the header and the body, with `*_named_params` examples [FUNDAMENTALS].
        Template(
            "1582346091843201",
            "order_confirmation",
            "en_US",
            "UTILITY",
            "APPROVED",
            [
                {
                    "type": "HEADER",
                    "format": "TEXT",
                    "text": "Order {{order_number}} confirmed",
                    "example": {
                        "header_text_named_params": [
                            {"param_name": "order_number", "example": "860198-230332"}
                        ]
                    },
                },
                {
                    "type": "BODY",
                    "text": "Thank you, {{first_name}}! Your order {{order_number}} is confirmed and we will "
                    "tell you when it ships.",
                    "example": {
                        "body_text_named_params": [
                            {"param_name": "first_name", "example": "Pablo"},
                            {"param_name": "order_number", "example": "860198-230332"},
                        ]
                    },
                },
            ],
            parameter_format="NAMED",
        ),
        # MARKETING: an IMAGE header (its sample by `header_handle`), a footer and two quick-reply
        # buttons, as in Meta's seasonal promotion examples [COMPONENTS].
        Template(
            "1720493587215046",
            "seasonal_promotion",
            "en_US",
            "MARKETING",
            "APPROVED",
            [
                {
                    "type": "HEADER",
                    "format": "IMAGE",
                    "example": {
                        "header_handle": ["https://scontent.whatsapp.net/v/t61.29466-34/summer-sale.jpg"]
                    },
                },
                _body(
                    "Shop now through {{1}} and use code {{2}} to get {{3}} off of all merchandise.",
                    "the end of August",
                    "25OFF",
                    "25%",
                ),
                {"type": "FOOTER", "text": "Use the buttons below to manage your marketing subscriptions"},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "QUICK_REPLY", "text": "Unsubscribe from Promos"},
                        {"type": "QUICK_REPLY", "text": "Unsubscribe from All"},
                    ],
                },
            ],
        ),
        # A URL button whose `{{1}}` is a suffix given at send time, next to a static phone button
        # [COMPONENTS]: the URL button is the second, index 1.
        Template(
            "1839012745529381",
            "delivery_tracking",
            "en_US",
            "UTILITY",
            "APPROVED",
            [
                _body("Good news, {{1}}! Your parcel is on its way.", "Pablo"),
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550051310"},
                        {
                            "type": "URL",
                            "text": "Track parcel",
                            "url": "https://www.luckyshrub.com/track/{{1}}",
                            "example": ["https://www.luckyshrub.com/track/860198-230332"],
                        },
                    ],
                },
            ],
        ),
        # [OPENAPI], unchanged: rejected in review, so never sendable nor shown to agents.
        Template(
            "920070352646140",
            "2023_april_promo",
            "en_US",
            "MARKETING",
            "REJECTED",
            [
                {"format": "TEXT", "text": "Fall Sale", "type": "HEADER"},
                {
                    "example": {"body_text": [["Mark", "FALL25"]]},
                    "text": "Hi {{1}}, our Fall Sale is on! Use promo code {{2}} Get an extra 25% off every "
                    "order above $350!",
                    "type": "BODY",
                },
                {"text": "Not interested in any of our sales? Tap Stop Promotions", "type": "FOOTER"},
                {"buttons": [{"text": "Stop promotions", "type": "QUICK_REPLY"}], "type": "BUTTONS"},
            ],
        ),
    ]


# --- listing ------------------------------------------------------------------------------------------


class ListingError(ValueError):
    """A listing request Graph would refuse (code 100), with the reason."""


def cursor(template: Template) -> str:
    """Opaque, as Graph's are: the template's id, base64 without padding."""
    return base64.urlsafe_b64encode(template.id.encode()).decode().rstrip("=")


def _position(templates: Sequence[Template], given: str, name: str) -> int:
    try:
        template_id = base64.urlsafe_b64decode(given + "=" * (-len(given) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        template_id = ""
    for position, template in enumerate(templates):
        if template.id == template_id:
            return position
    raise ListingError(f"{name} is not a cursor of this listing.")


def listing(templates: Sequence[Template], params: Mapping[str, str], page_url: str) -> Json:
    """Graph's answer to `GET /{WABA-ID}/message_templates`: one page of `data`, and `paging` with the
    cursors of its first and last item and a `next` (`previous`) URL while more follow (precede).
    Takes `limit`, `after`, `before`, `fields`, and the filters `name` (exact) and `status`."""
    raw_limit = params.get("limit", str(DEFAULT_PAGE_SIZE))
    if not (raw_limit.isascii() and raw_limit.isdigit() and 0 < int(raw_limit) <= 1000):
        raise ListingError("limit must be a whole number from 1 to 1000.")
    limit = int(raw_limit)
    fields = _fields(params.get("fields"))
    chosen = [t for t in templates if _matches(t, params)]
    if "after" in params and "before" in params:
        raise ListingError("Give after or before, not both.")
    if "after" in params:
        start = _position(chosen, params["after"], "after") + 1
        end = start + limit
    elif "before" in params:
        end = _position(chosen, params["before"], "before")
        start = max(0, end - limit)
    else:
        start, end = 0, limit
    page = chosen[start:end]
    answer: Json = {"data": [t.listed(fields) for t in page]}
    if page:
        paging: Json = {"cursors": {"before": cursor(page[0]), "after": cursor(page[-1])}}
        kept = {k: v for k, v in params.items() if k not in ("after", "before")}
        if end < len(chosen):
            paging["next"] = _url(page_url, {**kept, "limit": str(limit), "after": cursor(page[-1])})
        if start > 0:
            paging["previous"] = _url(page_url, {**kept, "limit": str(limit), "before": cursor(page[0])})
        answer["paging"] = paging
    return answer


def _fields(raw: str | None) -> tuple[str, ...] | None:
    if raw is None:
        return None
    asked = tuple(name.strip() for name in raw.split(",") if name.strip())
    unknown = [name for name in asked if name not in (*LISTED_FIELDS, "previous_category")]
    if unknown:
        raise ListingError(
            f"Tried accessing nonexisting field ({unknown[0]}) on node type (WhatsAppBusinessHSM)."
        )
    return asked


def _matches(template: Template, params: Mapping[str, str]) -> bool:
    if "name" in params and template.name != params["name"]:
        return False
    statuses = params.get("status")
    return statuses is None or template.status in {s.strip().upper() for s in statuses.split(",")}


def _url(base: str, params: Mapping[str, str]) -> str:
    return f"{base}?{urlencode(params)}"


# --- a send, checked against its template -----------------------------------------------------------


class TemplateRefusal(Exception):
    """Meta's refusal of a template send: `(#code) title`, the reason in `details`."""

    def __init__(self, code: int, title: str, details: str):
        super().__init__(f"(#{code}) {title}: {details}")
        self.code = code
        self.title = title
        self.details = details


def _missing(name: str, language: str) -> TemplateRefusal:
    return TemplateRefusal(
        132001,
        "Template name does not exist in the translation",
        f"template name ({name}) does not exist in {language}",
    )


def _count(where: str, given: int, expected: int) -> TemplateRefusal:
    return TemplateRefusal(
        132000,
        "Number of parameters does not match the expected number of params",
        f"{where}: number of localizable_params ({given}) does not match the expected number of params "
        f"({expected})",
    )


def _format(details: str) -> TemplateRefusal:
    return TemplateRefusal(132012, "Parameter format does not match format in the created template", details)


def find(templates: Iterable[Template], name: str, language: str) -> Template:
    """The approved template a send names, or Meta's refusal: 132001 for none (or not approved),
    132015 paused, 132016 disabled."""
    found = next((t for t in templates if t.name == name and t.language == language), None)
    if found is None:
        raise _missing(name, language)
    if found.status == "PAUSED":
        raise TemplateRefusal(
            132015,
            "Template is Paused",
            "Template is paused due to low quality so it cannot be sent in a template message.",
        )
    if found.status == "DISABLED":
        raise TemplateRefusal(
            132016,
            "Template is disabled",
            "Template has been paused too many times due to low quality and is now permanently disabled.",
        )
    if found.status != "APPROVED":
        raise _missing(name, language)
    return found


def check_send(templates: Iterable[Template], sent: Json) -> tuple[Template, str]:
    """The template a send's `template` object fills, and the text the customer sees; raises
    TemplateRefusal as Meta would. `sent` has already passed Meta's `TemplateObject` schema."""
    template = find(templates, sent["name"], sent["language"]["code"])
    given: dict[str, list[Json]] = {}
    buttons: dict[int, Json] = {}
    for component in sent.get("components", []):
        kind = component["type"]
        if kind == "button":
            index = int(component["index"])
            if index in buttons:
                raise _format(f"button: index {index} is given twice")
            buttons[index] = component
        elif kind in given:
            raise _format(f"{kind}: only one {kind} component may be given")
        else:
            given[kind] = list(component.get("parameters", []))
    header = _header_values(template, given.get("header", []))
    body = _text_values(template, "body", template.component("BODY"), given.get("body", []))
    _check_buttons(template, buttons)
    return template, _rendered(template, header, body)


def _header_values(template: Template, parameters: list[Json]) -> dict[str, str]:
    header = template.component("HEADER")
    media = MEDIA_FORMATS.get(header["format"]) if header else None
    if header is None or media is None:
        return _text_values(template, "header", header, parameters)
    if not parameters or parameters[0]["type"] != media:
        received = parameters[0]["type"].upper() if parameters else "UNKNOWN"
        raise _format(f"header: Format mismatch, expected {header['format']}, received {received}")
    if len(parameters) != 1:
        raise _count("header", len(parameters), 1)
    return {}


def _text_values(
    template: Template, where: str, component: Json | None, parameters: list[Json]
) -> dict[str, str]:
    """The values of a header's or body's variables, by variable."""
    variables = template.variables(component.get("text", "")) if component else []
    if len(parameters) != len(variables):
        raise _count(where, len(parameters), len(variables))
    allowed = BODY_PARAMETER_TYPES if where == "body" else {"text"}
    values: dict[str, str] = {}
    for position, parameter in enumerate(parameters, start=1):
        if parameter["type"] not in allowed:
            raise _format(f"{where}: Format mismatch, expected TEXT, received {parameter['type'].upper()}")
        name = parameter.get("parameter_name")
        if template.parameter_format == "NAMED":
            if name is None:
                raise _format(
                    f"{where}: parameter {position} has no parameter_name; this template's parameters "
                    f"are named ({', '.join(variables)})"
                )
            if name not in variables or name in values:
                raise _format(f"{where}: parameter_name {name} is not one of ({', '.join(variables)})")
        elif name is not None:
            raise _format(
                f"{where}: parameter {position} has a parameter_name; this template's are positional"
            )
        values[name if name is not None else str(position)] = _shown(parameter)
    return values


def _shown(parameter: Json) -> str:
    kind = parameter["type"]
    if kind == "text":
        return str(parameter["text"])
    return str(parameter[kind]["fallback_value"])  # currency, date_time


def _check_buttons(template: Template, given: dict[int, Json]) -> None:
    defined = template.buttons()
    for index, component in given.items():
        if index >= len(defined):
            raise _format(f"button: the template has no button at index {index}")
        button = defined[index]
        if component["sub_type"] != button["type"].lower():
            raise _format(
                f"button: Format mismatch at index {index}, expected {button['type']}, "
                f"received {component['sub_type'].upper()}"
            )
        expected = 1 if button["type"] == "QUICK_REPLY" or "{{1}}" in button.get("url", "") else 0
        if len(component["parameters"]) != expected:
            raise _count(f"button {index}", len(component["parameters"]), expected)
        wanted = "payload" if button["type"] == "QUICK_REPLY" else "text"
        if any(parameter["type"] != wanted for parameter in component["parameters"]):
            raise _format(f"button {index}: Format mismatch, expected {wanted.upper()}")
    for index, button in enumerate(defined):
        if button["type"] == "URL" and "{{1}}" in button["url"] and index not in given:
            raise _count(f"button {index}", 0, 1)


def _rendered(template: Template, header: Mapping[str, str], body: Mapping[str, str]) -> str:
    """Header, body and footer text as the customer reads them, a blank line apart."""
    parts: list[str] = []
    for kind, values in (("HEADER", header), ("BODY", body), ("FOOTER", {})):
        component = template.component(kind)
        if component is None or "text" not in component:
            continue
        text = str(component["text"])
        for variable, value in values.items():
            text = text.replace("{{" + variable + "}}", value)
        parts.append(text)
    return "\n\n".join(parts)


# --- message_template_status_update ----------------------------------------------------------------


def status_update_webhook(waba_id: str, template: Template, event: str, reason: str, now: int) -> Json:
    """The body Meta posts when a template's status changes ([STATUS-UPDATE]): the WABA in `entry.id`,
    `time`, and the template's id (a number), name, language (Meta writes it with a hyphen, `en-US`,
    where the template listing says `en_US`), category and the reason ("NONE" unless rejected)."""
    value: Json = {
        "event": event,
        "message_template_id": int(template.id),
        "message_template_name": template.name,
        "message_template_language": template.language.replace("_", "-"),
        "reason": reason,
        "message_template_category": template.category,
    }
    return {
        "entry": [
            {
                "id": waba_id,
                "time": now,
                "changes": [{"value": value, "field": "message_template_status_update"}],
            }
        ],
        "object": "whatsapp_business_account",
    }
