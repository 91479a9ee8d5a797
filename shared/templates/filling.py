"""What an agent fills a template with, checked against the template before anything leaves: every
placeholder has a value, nothing is left over, a media header gets a file. Then Meta's `components`
(OpenAPI `TemplateObject.components`) and the text the customer reads.

Values: positional templates take lists, in order (`"body": ["Ada", "1234"]` fills `{{1}}`, `{{2}}`);
named ones take objects (`"body": {"first_name": "Ada"}`); a media header takes
`[{"mediaUrl": ...}]`; buttons take `[{"index": 0, "value": "track/1234"}]` (the button's position).
Meta refuses a text parameter holding a newline, a tab or more than four spaces in a row ("Param text
cannot have new-line/tab characters or more than 4 consecutive spaces"), so that is a 400 here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.templates.definitions import Component, Placeholder, Template
from shared.whatsapp.graph_models import (
    MediaBody,
    TemplateBody,
    TemplateComponent,
    TemplateLanguage,
    TemplateMediaParameter,
    TemplateTextParameter,
)

MAX_VALUE = 1024  # a template body is at most 1024 characters; no one value can be longer
ParameterText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_VALUE)]
_NOT_IN_A_PARAMETER = re.compile(r"[\n\r\t]| {5,}")


class HeaderMedia(BaseModel):
    """The file of a media header: one of our uploads (or an https link Meta can fetch)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    media_url: str = Field(alias="mediaUrl", min_length=1, max_length=2048)
    filename: str | None = Field(default=None, min_length=1, max_length=240)


class ButtonValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, le=9, description="The button's position in the template, from 0.")
    value: ParameterText


class TemplateParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    header: list[ParameterText | HeaderMedia] | dict[str, ParameterText] | None = Field(
        default=None, max_length=20
    )
    body: list[ParameterText] | dict[str, ParameterText] | None = Field(default=None, max_length=100)
    buttons: list[ButtonValue] | None = Field(default=None, max_length=10)


class TemplateParameterError(ValueError):
    """A value is missing, left over, or of the wrong kind: 400 with this message."""


@dataclass(frozen=True)
class Filled:
    """The template's placeholders with their values; the media header's file, if it has one."""

    template: Template
    texts: dict[Placeholder, str]
    header_media: HeaderMedia | None = None

    @property
    def media_placeholder(self) -> Placeholder | None:
        return next((p for p in self.template.of("header") if p.type != "text"), None)

    def rendered(self) -> str:
        return self.template.render(self.texts)

    def body(self, media: MediaBody | None = None) -> TemplateBody:
        """Meta's `template` object; `media` is the header's file as sent (by id or link)."""
        components: list[TemplateComponent] = []
        named = self.template.parameter_format == "NAMED"
        for where in ("header", "body"):
            parameters: list[TemplateTextParameter | TemplateMediaParameter] = [
                TemplateTextParameter(text=value, parameter_name=p.name if named else None)
                for p, value in self.texts.items()
                if p.component == where
            ]
            placeholder = self.media_placeholder
            if where == "header" and placeholder is not None and media is not None:
                parameters.append(
                    TemplateMediaParameter.model_validate({"type": placeholder.type, placeholder.type: media})
                )
            if parameters:
                components.append(TemplateComponent(type=where, parameters=parameters))
        for p, value in self.texts.items():
            if p.component == "button":
                components.append(
                    TemplateComponent(
                        type="button",
                        sub_type="url",
                        index=str(p.button_index),
                        parameters=[TemplateTextParameter(text=value)],
                    )
                )
        return TemplateBody(
            name=self.template.name,
            language=TemplateLanguage(code=self.template.language),
            components=components or None,
        )


def fill(template: Template, given: TemplateParameters) -> Filled:
    """The template filled with `given`; raises TemplateParameterError naming the first problem."""

    def refuse(problem: str) -> TemplateParameterError:
        return TemplateParameterError(f"{template.label}: {problem}")

    texts: dict[Placeholder, str] = {}
    header_media: HeaderMedia | None = None
    header = template.of("header")
    media = next((p for p in header if p.type != "text"), None)
    if media is not None:
        header_media = _media_value(given.header, media, refuse)
    else:
        texts |= _texts(template, "header", header, given.header, refuse)
    texts |= _texts(template, "body", template.of("body"), given.body, refuse)
    texts |= _buttons(template.of("button"), given.buttons or [], refuse)
    for placeholder, value in texts.items():
        if not value.strip():
            raise refuse(f"{placeholder.label} is empty")
        if _NOT_IN_A_PARAMETER.search(value):
            raise refuse(
                f"{placeholder.label} may not hold a line break, a tab or more than four spaces in a row"
            )
    return Filled(template, texts, header_media)


Refuse = Callable[[str], TemplateParameterError]


def _media_value(
    given: list[str | HeaderMedia] | dict[str, str] | None, placeholder: Placeholder, refuse: Refuse
) -> HeaderMedia:
    needs = f"header needs {'an' if placeholder.type == 'image' else 'a'} {placeholder.type}"
    if not isinstance(given, list) or not given or not isinstance(given[0], HeaderMedia):
        raise refuse(f"{needs}: give mediaUrl of one of our uploads")
    if len(given) > 1:
        raise refuse("unexpected header parameter 2")
    return given[0]


def _texts(
    template: Template,
    where: Component,
    placeholders: list[Placeholder],
    given: list[str | HeaderMedia] | list[str] | dict[str, str] | None,
    refuse: Refuse,
) -> dict[Placeholder, str]:
    if given is None or len(given) == 0:
        if placeholders:
            raise refuse(f"{placeholders[0].label} is missing")
        return {}
    if not placeholders:
        first = next(iter(given)) if isinstance(given, dict) else 1
        raise refuse(f"unexpected {where} parameter {first}")
    if template.parameter_format == "NAMED":
        if not isinstance(given, dict):
            names = ", ".join(p.name or "" for p in placeholders)
            raise refuse(f"{where} parameters are named: give an object with {names}")
        for placeholder in placeholders:
            if placeholder.name not in given:
                raise refuse(f"{placeholder.label} is missing")
        expected = {p.name for p in placeholders}
        extra = next((name for name in given if name not in expected), None)
        if extra is not None:
            raise refuse(f"unexpected {where} parameter {extra[:64]}")
        return {p: given[p.name] for p in placeholders if p.name is not None}
    if not isinstance(given, list):
        raise refuse(f"{where} parameters go in a list, in order ({{{{1}}}}, {{{{2}}}}, ...)")
    values: dict[Placeholder, str] = {}
    for position, placeholder in enumerate(placeholders):
        if position >= len(given):
            raise refuse(f"{placeholder.label} is missing")
        value = given[position]
        if not isinstance(value, str):
            raise refuse(f"{placeholder.label} must be text, not a file")
        values[placeholder] = value
    if len(given) > len(placeholders):
        raise refuse(f"unexpected {where} parameter {len(placeholders) + 1}")
    return values


def _buttons(
    placeholders: list[Placeholder], given: list[ButtonValue], refuse: Refuse
) -> dict[Placeholder, str]:
    by_index: dict[int, str] = {}
    for item in given:
        if item.index in by_index:
            raise refuse(f"button {item.index} is given twice")
        by_index[item.index] = item.value
    values: dict[Placeholder, str] = {}
    for placeholder in placeholders:
        if placeholder.button_index not in by_index:
            raise refuse(f"{placeholder.label} is missing")
        values[placeholder] = by_index.pop(placeholder.button_index)
    if by_index:
        raise refuse(f"unexpected button parameter for button {min(by_index)}")
    return values
