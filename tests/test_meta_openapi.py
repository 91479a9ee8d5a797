"""Meta's OpenAPI document as the judge of the send bodies (tests/meta_openapi.py): it reads Meta's
document right, it refuses what Meta refuses, and every body the app can build passes, type by type.

The stand-ins of Meta in test_send.py, test_send_bsuid.py and test_media.py, and the sandbox in
test_sandbox.py, run the same check on every body they receive."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from shared.conversations.commands import SendMessageCommand
from shared.conversations.send import outbound_request
from tests.meta_openapi import (
    BASE_URI,
    MetaRefuses,
    assert_meta_accepts,
    discriminator_mapping,
    problems,
    raw_document,
    send_examples,
    send_request_schema_ref,
)

APP_TYPES = ("text", "image", "document", "audio", "video", "sticker")
WA = "447700900123"
USER_ID = "US.13491208655302741918"


def test_the_send_endpoint_takes_metas_message_schema_with_a_branch_for_each_type_the_app_sends() -> None:
    assert send_request_schema_ref() == "#/components/schemas/Message"
    assert set(APP_TYPES) <= set(discriminator_mapping())


def examples_of_app_types() -> list[Any]:
    return [
        pytest.param(body, id=name)
        for name, body in send_examples().items()
        if body.get("type") in (*APP_TYPES, "reaction")
    ]


@pytest.mark.parametrize("body", examples_of_app_types())
def test_metas_own_examples_of_the_types_the_app_sends_pass(body: dict[str, Any]) -> None:
    assert_meta_accepts(body)


def test_without_merging_allof_metas_own_examples_would_fail() -> None:
    """Why the module merges `allOf`: validated as written, `additionalProperties: false` in one branch
    refuses the other branch's fields, so even Meta's example is refused."""
    registry: Registry[Any] = Registry().with_resource(BASE_URI, DRAFT202012.create_resource(raw_document()))
    as_written = Draft202012Validator(
        {"$ref": BASE_URI + "#/components/schemas/TextMessage"}, registry=registry
    )
    example = send_examples()["Send Text Message"]
    messages = [error.message for error in as_written.iter_errors(example)]
    assert any("Additional properties are not allowed" in m and "messaging_product" in m for m in messages)
    assert problems(example) == []


@pytest.mark.parametrize(
    "name", [name for name, body in send_examples().items() if body.get("type") in APP_TYPES]
)
def test_the_app_builds_metas_own_examples_field_for_field(name: str) -> None:
    """The app's bodies are Meta's documented examples: the same command gives the same fields, plus
    `biz_opaque_callback_data`, with the number in E.164."""
    example = copy.deepcopy(send_examples()[name])
    kind, link = example["type"], "https://cdn.example.com/file"
    content = example[kind]
    command: dict[str, Any] = {"type": kind}
    if kind == "text":
        command.update(text=content["body"], previewUrl=content.get("preview_url", False))
    else:
        command["mediaUrl"] = link
        command.update({key: content[key] for key in ("caption", "filename") if key in content})
        if "link" in content:
            content["link"] = link  # Meta's placeholder (`<http(s)://audio-url>`) is no URL
    if "context" in example:
        command["replyTo"] = example["context"]["message_id"]
    built = outbound_request(WA, SendMessageCommand.model_validate(command), "out:x", content.get("id"))
    assert built.to_json() == {**example, "to": "+" + WA, "biz_opaque_callback_data": "out:x"}


# --- what Meta's document refuses --------------------------------------------------------------------


def body_of(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+" + WA,
        "type": "text",
        "text": {"body": "hi", "preview_url": False},
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        pytest.param(body_of(surprise=1), "'surprise' was unexpected", id="unknown-field"),
        pytest.param(
            body_of(text={"body": "hi", "bold": True}), "'bold' was unexpected", id="unknown-in-text"
        ),
        pytest.param(body_of(text={"body": 5}), "5 is not of type 'string'", id="body-not-a-string"),
        pytest.param(body_of(messaging_product=None), "'messaging_product' is a required", id="no-product"),
        pytest.param(body_of(to=None), "'to' is a required property", id="nobody"),
        pytest.param(body_of(recipient_type="team"), "'team' is not one of", id="recipient-type"),
        pytest.param(body_of(type="carousel"), "not one of Meta's message types", id="unknown-type"),
        pytest.param(body_of(type="image", text=None), "'image' is a required property", id="no-content"),
        pytest.param(
            body_of(type="sticker", text=None, sticker={"id": "1", "caption": "no"}),
            "'caption' was unexpected",
            id="sticker-caption",
        ),
        pytest.param(
            body_of(type="image", text=None, image={"id": "1", "link": "https://x.test/a.png"}),
            "is valid under each of",
            id="id-and-link",
        ),
        pytest.param(body_of(context={"message_id": 7}), "7 is not of type 'string'", id="context-id"),
        pytest.param(body_of(biz_opaque_callback_data="x" * 513), "is too long", id="callback-data-over-512"),
        pytest.param(["not", "an", "object"], "JSON object", id="not-an-object"),
    ],
)
def test_a_body_metas_document_refuses_is_refused_saying_where(body: Any, complaint: str) -> None:
    with pytest.raises(MetaRefuses) as refused:
        assert_meta_accepts(body)
    assert complaint in str(refused.value)


# --- every body the app builds, type by type ------------------------------------------------------------


def app_bodies() -> list[Any]:
    """The app's send bodies (shared.conversations.send.outbound_request) for every combination it
    can produce: each type, by link and by uploaded id, with and without caption, filename, reply,
    link preview, to a number (`to`) and to a user id (`recipient`)."""
    cases: list[tuple[str, dict[str, Any], str | None, str, str | None]] = []
    addressees = {"to": WA, "recipient": USER_ID}
    for (who, customer), reply in itertools.product(addressees.items(), (None, "wamid.Q")):
        for preview in (False, True):
            command = {"type": "text", "text": "see https://example.com", "previewUrl": preview}
            cases.append(
                (f"text-{who}-preview:{preview}-reply:{bool(reply)}", command, reply, customer, None)
            )
        for kind, source in itertools.product(APP_TYPES[1:], ("link", "id")):
            captions = (None, "a caption") if kind in ("image", "document", "video") else (None,)
            filenames = (None, "March.pdf") if kind == "document" else (None,)
            for caption, filename in itertools.product(captions, filenames):
                command = {"type": kind, "mediaUrl": f"https://cdn.example.com/file-{kind}"}
                if caption:
                    command["caption"] = caption
                if filename:
                    command["filename"] = filename
                media_id = "1234567890" if source == "id" else None
                name = f"{kind}-{source}-{who}-caption:{bool(caption)}-filename:{bool(filename)}"
                name += f"-reply:{bool(reply)}"
                cases.append((name, command, reply, customer, media_id))
    return [
        pytest.param(command, reply, customer, media_id, id=name)
        for name, command, reply, customer, media_id in cases
    ]


@pytest.mark.parametrize(("command", "reply", "customer", "media_id"), app_bodies())
def test_every_body_the_app_builds_is_one_metas_document_describes(
    command: dict[str, Any], reply: str | None, customer: str, media_id: str | None
) -> None:
    if reply:
        command = {**command, "replyTo": reply}
    body = outbound_request(
        customer, SendMessageCommand.model_validate(command), "out:c-1", media_id
    ).to_json()
    assert_meta_accepts(body)
    assert body["type"] == command["type"]
    assert ("to" in body, "recipient" in body) == (customer == WA, customer == USER_ID)
    content = body[command["type"]]
    if media_id:
        assert (content["id"], "link" in content) == (media_id, False)
    assert ("context" in body) == bool(reply)
