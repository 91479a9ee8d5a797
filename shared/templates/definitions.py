"""A message template as Meta describes it (`GET /{waba-id}/message_templates`), read into what an agent
fills in (its placeholders) and what it says (its text).

Meta's template components: a HEADER (TEXT with at most one variable, or an IMAGE, VIDEO or DOCUMENT
given at send time), a BODY, a FOOTER (no variables) and BUTTONS, of which a URL button may end in a
variable and an authentication template's OTP button takes the code (Meta's "Template components"
and "Authentication templates" guides,
https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/components).
Variables are positional, `{{1}}`, `{{2}}`..., or, with `parameter_format: NAMED`, named
(`{{first_name}}`); a button's variable is always `{{1}}`.

A template with a part this app cannot fill (a location or product header, a carousel, a
limited-time offer, a copy-code, catalog or Flow button...) is kept, but `unsupported` says why: it is
neither listed for agents nor sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)

Component = Literal["header", "body", "button"]
ParameterType = Literal["text", "image", "video", "document"]
ParameterFormat = Literal["POSITIONAL", "NAMED"]
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
MEDIA_HEADERS: dict[str, ParameterType] = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}
# Buttons sent as they were approved (QUICK_REPLY, PHONE_NUMBER, a URL without a variable), or with
# one text parameter (a URL ending in a variable; OTP, which takes the code).
FILLABLE_BUTTONS = frozenset({"QUICK_REPLY", "PHONE_NUMBER", "URL", "OTP"})
VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]{1,64})\s*\}\}")


@dataclass(frozen=True)
class Placeholder:
    """One value the agent gives: `index` for `{{n}}` of a positional template (and a button's
    `{{1}}`), `name` for a named one; a media header has neither."""

    component: Component
    type: ParameterType
    name: str | None = None
    index: int | None = None
    button_index: int | None = None
    example: str | None = None

    @property
    def label(self) -> str:
        """How an error names it: `body parameter order_id`, `header parameter 1`, `button 0 parameter`."""
        if self.component == "button":
            return f"button {self.button_index} parameter"
        return f"{self.component} parameter {self.name if self.name is not None else self.index}"


class MetaTemplate(BaseModel):
    """The fields the catalog asks Meta for; anything else Meta adds is ignored."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str | None = None
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=1, max_length=20)
    status: str = ""
    category: str = ""
    parameter_format: str = "POSITIONAL"
    components: list[dict[str, Any]] = []


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    category: str
    status: str
    parameter_format: ParameterFormat
    components: list[dict[str, Any]]
    placeholders: tuple[Placeholder, ...] = ()
    header_format: str | None = None  # TEXT, IMAGE, VIDEO, DOCUMENT
    texts: dict[Component, str] = field(default_factory=dict)  # header (TEXT), body, footer's text
    footer: str | None = None
    unsupported: str | None = None  # why this app cannot send it

    @property
    def label(self) -> str:
        return f"template {self.name} ({self.language})"

    @property
    def approved(self) -> bool:
        return self.status == "APPROVED"

    @property
    def listed(self) -> bool:
        """Offered to agents: approved, of a known category, and fillable by this app."""
        return self.approved and self.category in CATEGORIES and self.unsupported is None

    def of(self, component: Component) -> list[Placeholder]:
        return [p for p in self.placeholders if p.component == component]

    @property
    def preview(self) -> str:
        """Header, body and footer text joined by a blank line, variables as they are."""
        return self.render({})

    def render(self, values: Mapping[Placeholder, str]) -> str:
        """The text the customer reads, each variable replaced by its value (left as is when none)."""
        parts = [
            _filled(self.texts.get("header"), "header", values),
            _filled(self.texts.get("body"), "body", values),
            self.footer,
        ]
        return "\n\n".join(part for part in parts if part)


def _filled(text: str | None, component: Component, values: Mapping[Placeholder, str]) -> str | None:
    if not text:
        return text
    by_key = {
        p.name if p.name is not None else str(p.index): v
        for p, v in values.items()
        if p.component == component
    }
    return VARIABLE.sub(lambda m: by_key.get(m.group(1), m.group(0)), text)


def read_template(raw: Any) -> Template | None:
    """Meta's description of one template, or None (logged) when it lacks a name or a language."""
    try:
        meta = MetaTemplate.model_validate(raw)
    except ValidationError as error:
        log.warning("a template from Meta was skipped: %s", error.errors(include_input=False)[0]["msg"])
        return None
    named = meta.parameter_format.upper() == "NAMED"
    reader = _Reader(named)
    for component in meta.components:
        reader.component(component)
    return Template(
        name=meta.name,
        language=meta.language,
        category=meta.category.upper(),
        status=meta.status.upper(),
        parameter_format="NAMED" if named else "POSITIONAL",
        components=meta.components,
        placeholders=tuple(reader.placeholders),
        header_format=reader.header_format,
        texts=reader.texts,
        footer=reader.footer,
        unsupported=reader.unsupported,
    )


class _Reader:
    """Walks a template's components, collecting placeholders, texts and the first unsupported part."""

    def __init__(self, named: bool):
        self.named = named
        self.placeholders: list[Placeholder] = []
        self.texts: dict[Component, str] = {}
        self.header_format: str | None = None
        self.footer: str | None = None
        self.unsupported: str | None = None

    def refuse(self, reason: str) -> None:
        self.unsupported = self.unsupported or reason

    def component(self, component: dict[str, Any]) -> None:
        kind = str(component.get("type", "")).upper()
        text = component.get("text") if isinstance(component.get("text"), str) else None
        found = component.get("example")
        example: dict[str, Any] = found if isinstance(found, dict) else {}
        if kind == "HEADER":
            self._header(str(component.get("format") or "TEXT").upper(), text, example)
        elif kind == "BODY":
            self.texts["body"] = text or ""
            self._variables("body", text or "", example, "body_text")
        elif kind == "FOOTER":
            self.footer = text
        elif kind == "BUTTONS":
            buttons = component.get("buttons")
            for position, button in enumerate(buttons if isinstance(buttons, list) else []):
                self._button(position, button if isinstance(button, dict) else {})
        else:
            self.refuse(f"a {kind.lower() or 'nameless'} component")

    def _header(self, form: str, text: str | None, example: dict[str, Any]) -> None:
        self.header_format = form
        if form == "TEXT":
            self.texts["header"] = text or ""
            self._variables("header", text or "", example, "header_text")
        elif form in MEDIA_HEADERS:
            self.placeholders.append(Placeholder("header", MEDIA_HEADERS[form]))
        else:
            self.refuse(f"a {form.lower()} header")

    def _variables(self, where: Component, text: str, example: dict[str, Any], key: str) -> None:
        names = list(dict.fromkeys(m.group(1) for m in VARIABLE.finditer(text)))
        if self.named:
            examples = _named_examples(example.get(f"{key}_named_params"))
            self.placeholders += [Placeholder(where, "text", name=n, example=examples.get(n)) for n in names]
            return
        if not all(n.isdigit() for n in names):
            self.refuse(f"a named variable in a positional template's {where}")
            return
        samples = example.get(key)
        if where == "body" and isinstance(samples, list) and samples and isinstance(samples[0], list):
            samples = samples[0]  # body examples are one list per example message
        for index in sorted({int(n) for n in names}):
            self.placeholders.append(Placeholder(where, "text", index=index, example=_at(samples, index - 1)))

    def _button(self, position: int, button: dict[str, Any]) -> None:
        kind = str(button.get("type", "")).upper()
        if kind not in FILLABLE_BUTTONS:
            self.refuse(f"a {kind.lower() or 'nameless'} button")
            return
        url = button.get("url") if isinstance(button.get("url"), str) else ""
        if kind == "OTP" or (kind == "URL" and VARIABLE.search(cast(str, url))):
            prefix = VARIABLE.split(cast(str, url))[0] if url else ""
            sample = _at(button.get("example"), 0)
            suffix = sample[len(prefix) :] if sample and prefix and sample.startswith(prefix) else None
            self.placeholders.append(
                Placeholder("button", "text", index=1, button_index=position, example=suffix)
            )


def _at(values: Any, position: int) -> str | None:
    if isinstance(values, list) and 0 <= position < len(values) and isinstance(values[position], str):
        return cast(str, values[position])
    return None


def _named_examples(found: Any) -> dict[str, str]:
    examples: dict[str, str] = {}
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and isinstance(item.get("param_name"), str):
            sample = item.get("example")
            examples[item["param_name"]] = sample if isinstance(sample, str) else ""
    return examples
