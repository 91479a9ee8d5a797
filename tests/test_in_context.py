"""Messages in context: edits, deletions (revokes), reactions and replies change the message they name,
through the real webhook, Cosmos DB emulator and history API; plus the pure rules' order independence.

The bodies are Meta's, built per test with fresh ids; each builder names its source.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from shared.conversations.amendments import Amendment, amend, amendment_of
from shared.conversations.documents import MessageDocument, conversation_id, document_id, iso
from shared.conversations.in_context import LinksDocument, apply_in_context
from shared.conversations.inbound import message_document
from shared.conversations.ports import UNREAD, Change, Doc, Unread
from shared.services import Services
from shared.whatsapp.webhook_models import Message
from tests.api import deliver, messages, send_message
from tests.payloads import Json, contact, envelope, inbound, message, new_wamid, now_ts
from tests.test_send import Meta

WA = "447700900123"
BUSINESS = "15550001111"


# --- Meta's bodies -----------------------------------------------------------------------------------


def edit(original: str, kind: str, body: Json, *, wamid: str | None = None, ts: str | None = None) -> Json:
    """`type: edit`, the new version under `edit.message`: PYWA tests/data/updates/edit_message.json
    "edit_text" / "edit_caption" (commit 646f6c77), ../shared/whatsapp-payloads/edit_image.json."""
    new = {"type": kind, kind: body}
    return message("edit", {"original_message_id": original, "message": new}, wa_id=WA, wamid=wamid, ts=ts)


def revoke(original: str, *, wamid: str | None = None, ts: str | None = None) -> Json:
    """Meta's revoke reference (…/whatsapp/webhooks/reference/messages/revoke, WHATSAPP-NOTES [REVOKE])
    and PYWA tests/data/updates/deleted_message.json "revoke"."""
    return message("revoke", {"original_message_id": original}, wa_id=WA, wamid=wamid, ts=ts)


def reaction(target: str, emoji: str, *, wamid: str | None = None, ts: str | None = None) -> Json:
    """META-OPENAPI example "Reaction Message" (../shared/whatsapp-payloads/reaction.json); an empty
    emoji is a removal: PYWA message.json "unreaction_empty" (reaction_removed_empty_emoji.json)."""
    return message("reaction", {"message_id": target, "emoji": emoji}, wa_id=WA, wamid=wamid, ts=ts)


def replying_to(target: str) -> Json:
    """`context{from, id}` of a reply: PYWA message.json "reply" (text_reply_with_context.json)."""
    return {"from": BUSINESS, "id": target}


def text(body: str, *, wamid: str | None = None, ts: str | None = None, **extra: Any) -> Json:
    """Meta's text reference example (../shared/whatsapp-payloads/text.json)."""
    return message("text", {"body": body}, wa_id=WA, wamid=wamid, ts=ts, **extra)


def as_echo(item: Json) -> Json:
    """The same message sent by the business from the WhatsApp Business app (`smb_message_echoes`):
    PYWA outgoing_message.json "text" and edit_message.json "coexistence_edit_text"."""
    return {**item, "from": BUSINESS, "to": WA}


def customer(phone_number_id: str, *items: Json) -> Json:
    return inbound(phone_number_id, WA, *items)


def business(phone_number_id: str, *items: Json) -> Json:
    return envelope(phone_number_id, contacts=[contact(WA)], echoes=[as_echo(i) for i in items])


def at(ts: str) -> str:
    return iso(datetime.fromtimestamp(int(ts), UTC))


def shown(client: Client, phone_number_id: str, **params: str) -> list[dict[str, Any]]:
    return messages(client, phone_number_id, WA, **params)


def stored(services: Services, phone_number_id: str, wamid: str) -> Doc:
    found = services.store.read(conversation_id(phone_number_id, WA), document_id(wamid))
    assert found is not None
    return found


# --- edits -------------------------------------------------------------------------------------------


def test_an_edit_changes_the_original_in_place_and_keeps_the_earlier_version(
    client: Client, services: Services, phone_number_id: str
) -> None:
    original, change = new_wamid(), new_wamid()
    sent, edited = now_ts(-60), now_ts(-30)
    deliver(client, customer(phone_number_id, text("Hi, wher is my parcel?", wamid=original, ts=sent)))
    deliver(
        client,
        customer(
            phone_number_id,
            edit(original, "text", {"body": "Hi, where is my parcel?"}, wamid=change, ts=edited),
        ),
    )

    [only] = shown(client, phone_number_id)
    assert only["wamid"] == original
    assert only["text"] == "Hi, where is my parcel?"
    assert only["edited"] is True
    assert only["timestamp"] == at(sent)  # it keeps its place in the chat
    assert only["details"]["history"] == [{"text": "Hi, wher is my parcel?", "at": at(sent)}]
    # The edit itself is kept (duplicates, audit) but is not a message of its own.
    assert stored(services, phone_number_id, change)["hidden"] is True


def test_an_edited_caption_replaces_the_caption_and_keeps_the_media(
    client: Client, phone_number_id: str
) -> None:
    original = new_wamid()
    photo = {"caption": "Old caption", "mime_type": "image/jpeg", "sha256": "4654+8g=", "id": "65463453"}
    deliver(
        client, customer(phone_number_id, message("image", photo, wa_id=WA, wamid=original, ts=now_ts(-9)))
    )
    # PYWA edit_message.json "edit_caption": the edit repeats the image with the new caption.
    deliver(client, customer(phone_number_id, edit(original, "image", {**photo, "caption": "caption"})))
    [only] = shown(client, phone_number_id)
    assert (only["kind"], only["caption"], only["media"]["metaMediaId"]) == ("image", "caption", "65463453")
    assert only["details"]["history"][0]["caption"] == "Old caption"


def test_an_older_edit_arriving_after_a_newer_one_does_not_win(client: Client, phone_number_id: str) -> None:
    original = new_wamid()
    deliver(client, customer(phone_number_id, text("v1", wamid=original, ts=now_ts(-30))))
    first, second = now_ts(-20), now_ts(-10)
    deliver(client, customer(phone_number_id, edit(original, "text", {"body": "v3"}, ts=second)))
    deliver(client, customer(phone_number_id, edit(original, "text", {"body": "v2"}, ts=first)))
    [only] = shown(client, phone_number_id)
    assert only["text"] == "v3"
    assert [v["text"] for v in only["details"]["history"]] == ["v1", "v2"]  # in time order


def test_a_repeated_edit_writes_nothing(client: Client, services: Services, phone_number_id: str) -> None:
    original = new_wamid()
    deliver(client, customer(phone_number_id, text("v1", wamid=original, ts=now_ts(-30))))
    body = customer(phone_number_id, edit(original, "text", {"body": "v2"}))
    deliver(client, body)
    before = stored(services, phone_number_id, original)
    deliver(client, body)  # Meta's retry
    assert stored(services, phone_number_id, original) == before  # same _etag: not even rewritten


def test_the_business_edits_its_own_message_from_the_business_app(
    client: Client, phone_number_id: str
) -> None:
    original = new_wamid()
    deliver(client, business(phone_number_id, text("Ships Munday", wamid=original, ts=now_ts(-30))))
    deliver(client, business(phone_number_id, edit(original, "text", {"body": "Ships Monday"})))
    [only] = shown(client, phone_number_id)
    assert (only["direction"], only["text"], only["edited"]) == ("outbound", "Ships Monday", True)


def test_nobody_edits_or_deletes_the_other_sides_message(
    client: Client, services: Services, phone_number_id: str
) -> None:
    ours = new_wamid()
    deliver(client, business(phone_number_id, text("Your code is 1234", wamid=ours, ts=now_ts(-30))))
    deliver(client, customer(phone_number_id, edit(ours, "text", {"body": "Your code is 9999"})))
    deliver(client, customer(phone_number_id, revoke(ours)))
    untouched = [m for m in shown(client, phone_number_id) if m["wamid"] == ours]
    assert untouched[0]["text"] == "Your code is 1234"
    assert "edited" not in untouched[0]
    assert "deleted" not in untouched[0]


# --- revokes -----------------------------------------------------------------------------------------


def test_a_deleted_message_keeps_its_place_and_nothing_of_its_content(
    client: Client, services: Services, phone_number_id: str
) -> None:
    original = new_wamid()
    photo = {"caption": "my passport", "mime_type": "image/jpeg", "sha256": "4654+8g=", "id": "65463453"}
    deliver(
        client, customer(phone_number_id, message("image", photo, wa_id=WA, wamid=original, ts=now_ts(-60)))
    )
    deliver(client, customer(phone_number_id, revoke(original)))

    [only] = shown(client, phone_number_id)
    assert only["deleted"] is True
    assert {"id", "timestamp", "direction", "kind"} <= set(only)
    assert not {"text", "caption", "media", "details", "context", "reactions", "quoted"} & set(only)
    assert "passport" not in json.dumps(only)
    # The original stays in the document's audit trail only, which is never served.
    document = stored(services, phone_number_id, original)
    assert not {"text", "caption", "media"} & set(document)
    audit = document["deletedContent"]
    assert audit["caption"] == "my passport"
    assert audit["media"]["metaMediaId"] == "65463453"


def test_a_deleted_message_serves_no_content_whatever_its_document_holds(
    client: Client, services: Services, phone_number_id: str
) -> None:
    original = new_wamid()
    deliver(client, customer(phone_number_id, text("secret", wamid=original, ts=now_ts(-60))))
    deliver(client, customer(phone_number_id, reaction(original, "\U0001f44d")))
    deliver(client, customer(phone_number_id, revoke(original)))
    # A media copy finishing late writes `media` back onto the document (shared/media/inbound_copy.py).
    conv = conversation_id(phone_number_id, WA)
    services.store.update(
        conv, document_id(original), lambda d: {**d, "media": {"blobName": "x"}} if d else None
    )
    [only] = shown(client, phone_number_id)
    assert not {"media", "reactions", "text"} & set(only)


def test_the_business_deletes_its_own_message_from_the_business_app(
    client: Client, phone_number_id: str
) -> None:
    """Meta's smb_message_echoes reference lists "A business customer revokes (deletes) a previously sent
    message using the WhatsApp Business app" among its triggers."""
    ours = new_wamid()
    deliver(client, business(phone_number_id, text("Wrong chat, sorry", wamid=ours, ts=now_ts(-60))))
    deliver(client, business(phone_number_id, revoke(ours), revoke(new_wamid())))
    deleted, alone = sorted(shown(client, phone_number_id), key=lambda m: m["wamid"] != ours)
    assert (deleted["wamid"], deleted["direction"], deleted["deleted"]) == (ours, "outbound", True)
    assert (alone["kind"], alone["text"]) == ("system", "The business deleted a message")  # target unknown


def test_a_deletion_after_an_edit_wins_whatever_the_order(client: Client, phone_number_id: str) -> None:
    original = new_wamid()
    deliver(client, customer(phone_number_id, text("v1", wamid=original, ts=now_ts(-60))))
    deliver(client, customer(phone_number_id, revoke(original, ts=now_ts(-20))))
    deliver(client, customer(phone_number_id, edit(original, "text", {"body": "v2"}, ts=now_ts(-30))))
    [only] = shown(client, phone_number_id)
    assert only["deleted"] is True
    assert "text" not in only


# --- reactions ---------------------------------------------------------------------------------------


def test_a_reaction_attaches_to_its_message_instead_of_being_one(
    client: Client, services: Services, phone_number_id: str
) -> None:
    ours, like = new_wamid(), new_wamid()
    reacted = now_ts(-5)
    deliver(client, business(phone_number_id, text("It ships today!", wamid=ours, ts=now_ts(-30))))
    deliver(client, customer(phone_number_id, reaction(ours, "\U0001f44d", wamid=like, ts=reacted)))
    [only] = shown(client, phone_number_id)
    assert only["wamid"] == ours
    assert only["reactions"] == [{"emoji": "\U0001f44d", "from": "customer", "at": at(reacted)}]
    assert stored(services, phone_number_id, like)["hidden"] is True


def test_each_side_has_one_reaction_the_latest_replaces_it_and_an_empty_emoji_removes_it(
    client: Client, phone_number_id: str
) -> None:
    theirs = new_wamid()
    deliver(client, customer(phone_number_id, text("Thanks!", wamid=theirs, ts=now_ts(-60))))
    deliver(client, customer(phone_number_id, reaction(theirs, "\U0001f44d", ts=now_ts(-50))))
    deliver(client, business(phone_number_id, reaction(theirs, "\u2764\ufe0f", ts=now_ts(-45))))
    deliver(client, customer(phone_number_id, reaction(theirs, "\U0001f602", ts=now_ts(-40))))
    [only] = shown(client, phone_number_id)
    assert sorted((r["from"], r["emoji"]) for r in only["reactions"]) == [
        ("business", "\u2764\ufe0f"),
        ("customer", "\U0001f602"),
    ]
    deliver(client, customer(phone_number_id, reaction(theirs, "", ts=now_ts(-30))))
    [only] = shown(client, phone_number_id)
    assert [(r["from"], r["emoji"]) for r in only["reactions"]] == [("business", "\u2764\ufe0f")]


def test_an_older_reaction_arriving_late_never_undoes_a_newer_one(
    client: Client, phone_number_id: str
) -> None:
    theirs = new_wamid()
    deliver(client, customer(phone_number_id, text("Thanks!", wamid=theirs, ts=now_ts(-60))))
    deliver(client, customer(phone_number_id, reaction(theirs, "", ts=now_ts(-10))))  # removed last
    deliver(client, customer(phone_number_id, reaction(theirs, "\U0001f44d", ts=now_ts(-20))))  # late
    [only] = shown(client, phone_number_id)
    assert "reactions" not in only


def test_a_poll_brings_the_reacted_message_not_the_reaction(client: Client, phone_number_id: str) -> None:
    ours = new_wamid()
    deliver(client, business(phone_number_id, text("It ships today!", wamid=ours, ts=now_ts(-30))))
    cursor = client.get(
        f"/api/conversations/{WA}/messages", query_string={"phoneNumberId": phone_number_id}
    ).json["pollCursor"]
    deliver(client, customer(phone_number_id, reaction(ours, "\U0001f44d")))
    polled = shown(client, phone_number_id, changedSince=cursor)
    assert [(m["wamid"], m["reactions"][0]["emoji"]) for m in polled] == [(ours, "\U0001f44d")]


# --- targets that are not stored (yet) -------------------------------------------------------------


def test_an_item_before_its_target_shows_alone_then_joins_the_target_when_it_arrives(
    client: Client, services: Services, phone_number_id: str
) -> None:
    ours, like = new_wamid(), new_wamid()
    deliver(client, customer(phone_number_id, reaction(ours, "\U0001f44d", wamid=like)))
    [alone] = shown(client, phone_number_id)
    assert (alone["kind"], alone["text"]) == ("reaction", "\U0001f44d")  # nothing is lost meanwhile

    deliver(client, business(phone_number_id, text("It ships today!", wamid=ours, ts=now_ts(-30))))
    [only] = shown(client, phone_number_id)
    assert only["wamid"] == ours
    assert only["reactions"][0]["emoji"] == "\U0001f44d"
    assert stored(services, phone_number_id, like)["hidden"] is True


def test_an_edit_before_its_original_in_the_same_webhook_is_applied(
    client: Client, phone_number_id: str
) -> None:
    original = new_wamid()
    deliver(
        client,
        customer(
            phone_number_id,
            edit(original, "text", {"body": "v2"}, ts=now_ts(-10)),
            text("v1", wamid=original, ts=now_ts(-20)),
        ),
    )
    [only] = shown(client, phone_number_id)
    assert (only["wamid"], only["text"], only["edited"]) == (original, "v2", True)


def test_a_removed_reaction_on_an_unknown_message_shows_nothing(client: Client, phone_number_id: str) -> None:
    deliver(client, customer(phone_number_id, reaction(new_wamid(), "")))
    assert shown(client, phone_number_id) == []


def test_a_target_written_while_the_item_looked_for_it_is_still_found(
    services: Services, phone_number_id: str
) -> None:
    """The race: the item misses its target, the target is written and finds no `links` document yet,
    then the item lists itself. Looking again after listing closes it."""
    ours = new_wamid()
    target = message_document(
        Message.model_validate(as_echo(text("It ships today!", wamid=ours, ts=now_ts(-30)))),
        phone_number_id,
        WA,
        direction="outbound",
    )

    class TargetArrivesMidway:
        def __init__(self, inner: Any):
            self.inner = inner

        def update(
            self, partition: str, doc_id: str, change: Change, current: Doc | Unread | None = UNREAD
        ) -> Doc | None:
            if doc_id == LinksDocument.id_for(ours):
                self.inner.create(target.to_document())  # its own settling read found no links yet
            result: Doc | None = self.inner.update(partition, doc_id, change, current)
            return result

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    item = message_document(
        Message.model_validate(reaction(ours, "\U0001f44d")), phone_number_id, WA, direction="inbound"
    )
    services.store.create(item.to_document())
    apply_in_context(TargetArrivesMidway(services.store), item)
    found = stored(services, phone_number_id, ours)
    assert [r["emoji"] for r in found["reactions"]] == ["\U0001f44d"]


def test_a_quote_computed_before_an_edit_never_overwrites_the_edited_one(
    services: Services, phone_number_id: str
) -> None:
    """The race: a reply reads its target, an edit of the target refreshes the reply's quote, then the
    reply writes what it read. The quote's version only moves forward."""
    theirs, answer = new_wamid(), new_wamid()
    conv = conversation_id(phone_number_id, WA)

    def doc(item: Json, direction: str = "inbound") -> MessageDocument:
        return message_document(Message.model_validate(item), phone_number_id, WA, direction=direction)  # type: ignore[arg-type]

    target = doc(text("v1", wamid=theirs, ts=now_ts(-60)))
    services.store.create(target.to_document())
    change = doc(edit(theirs, "text", {"body": "v2"}, ts=now_ts(-30)))
    services.store.create(change.to_document())
    reply = doc(as_echo(text("Noted", wamid=answer, context=replying_to(theirs))), "outbound")
    services.store.create(reply.to_document())

    class EditLandsMidway:
        def __init__(self, inner: Any):
            self.inner = inner
            self.edited = False

        def update(
            self, partition: str, doc_id: str, change_: Change, current: Doc | Unread | None = UNREAD
        ) -> Doc | None:
            if doc_id == document_id(answer) and not self.edited:
                self.edited = True
                apply_in_context(self.inner, change)  # refreshes the reply's quote to v2 first
            result: Doc | None = self.inner.update(partition, doc_id, change_, current)
            return result

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    apply_in_context(EditLandsMidway(services.store), reply)
    found = services.store.read(conv, document_id(answer))
    assert found is not None
    assert found["quoted"]["text"] == "v2"


def test_nothing_reaches_a_message_in_another_conversation(
    client: Client, services: Services, phone_number_id: str
) -> None:
    elsewhere = new_wamid()
    deliver(
        client,
        inbound(
            phone_number_id,
            "15557770000",
            message("text", {"body": "mine"}, wa_id="15557770000", wamid=elsewhere),
        ),
    )
    deliver(client, customer(phone_number_id, revoke(elsewhere)))
    deliver(client, customer(phone_number_id, reaction(elsewhere, "\U0001f621")))
    other = services.store.read(conversation_id(phone_number_id, "15557770000"), document_id(elsewhere))
    assert other is not None
    assert other["text"] == "mine"
    assert not {"deleted", "reactions"} & set(other)


# --- replies -----------------------------------------------------------------------------------------


def test_a_reply_quotes_the_message_it_answers(client: Client, phone_number_id: str) -> None:
    ours, answer = new_wamid(), new_wamid()
    long = "Your parcel left our warehouse this morning and should reach you tomorrow before noon, " * 2
    deliver(client, business(phone_number_id, text(long, wamid=ours, ts=now_ts(-60))))
    deliver(client, customer(phone_number_id, text("Great!", wamid=answer, context=replying_to(ours))))
    reply = next(m for m in shown(client, phone_number_id) if m["wamid"] == answer)
    quoted = reply["quoted"]
    assert {k: quoted[k] for k in ("id", "wamid", "direction", "kind")} == {
        "id": document_id(ours),
        "wamid": ours,
        "direction": "outbound",
        "kind": "text",
    }
    assert len(quoted["text"]) == 100
    assert quoted["text"] == long[:99] + "…"
    assert "version" not in quoted


def test_a_quote_follows_an_edit_and_a_deletion_of_what_it_quotes(
    client: Client, phone_number_id: str
) -> None:
    theirs, answer = new_wamid(), new_wamid()
    deliver(client, customer(phone_number_id, text("my card is 4111", wamid=theirs, ts=now_ts(-60))))
    deliver(
        client,
        business(
            phone_number_id,
            text("Please don't share that", wamid=answer, ts=now_ts(-50), context=replying_to(theirs)),
        ),
    )

    def quote() -> dict[str, Any]:
        found: dict[str, Any] = next(m for m in shown(client, phone_number_id) if m["wamid"] == answer)[
            "quoted"
        ]
        return found

    assert quote()["text"] == "my card is 4111"
    deliver(
        client, customer(phone_number_id, edit(theirs, "text", {"body": "my card is ****"}, ts=now_ts(-40)))
    )
    assert quote()["text"] == "my card is ****"
    deliver(client, customer(phone_number_id, revoke(theirs, ts=now_ts(-30))))
    assert quote() == {
        "id": document_id(theirs),
        "wamid": theirs,
        "direction": "inbound",
        "kind": "text",
        "deleted": True,
    }
    assert "4111" not in json.dumps(shown(client, phone_number_id))


def test_a_reply_that_arrives_before_what_it_quotes_is_completed_when_that_arrives(
    client: Client, phone_number_id: str
) -> None:
    ours, answer = new_wamid(), new_wamid()
    deliver(client, customer(phone_number_id, text("Great!", wamid=answer, context=replying_to(ours))))
    assert "quoted" not in shown(client, phone_number_id)[0]
    deliver(client, business(phone_number_id, text("It ships today!", wamid=ours, ts=now_ts(-60))))
    reply = next(m for m in shown(client, phone_number_id) if m["wamid"] == answer)
    assert reply["quoted"]["text"] == "It ships today!"


# --- the rules on their own: every arrival order ends the same -------------------------------------


def _doc(item: Json, direction: str = "inbound") -> MessageDocument:
    return message_document(Message.model_validate(item), "106540352242922", WA, direction=direction)  # type: ignore[arg-type]


def _applied(target: MessageDocument, items: list[MessageDocument]) -> MessageDocument:
    for item in items:
        amendment = amendment_of(item)
        assert isinstance(amendment, Amendment)
        target = amend(amendment, item, target) or target
    return target


def test_edits_and_reactions_end_the_same_in_every_order_and_with_repeats() -> None:
    original = new_wamid()
    target = _doc(text("v1", wamid=original, ts="1749416383"))
    items = [
        _doc(edit(original, "text", {"body": "v2"}, ts="1749416390")),
        _doc(edit(original, "text", {"body": "v3"}, ts="1749416395")),
        _doc(edit(original, "text", {"body": "v3 again, same second"}, ts="1749416395")),
        _doc(reaction(original, "\U0001f44d", ts="1749416391")),
        _doc(reaction(original, "", ts="1749416392")),
        _doc(reaction(original, "\U0001f44e", ts="1749416391")),
        _doc(as_echo(reaction(original, "\u2764\ufe0f", ts="1749416393")), "outbound"),
    ]
    results = {
        json.dumps(_applied(target, [*order, *order[:2]]).to_document(), sort_keys=True)
        for order in itertools.permutations(items)
    }
    assert len(results) == 1
    final = json.loads(results.pop())
    assert len(final["details"]["history"]) == 3
    assert sorted((r["from"], r["emoji"]) for r in final["reactions"]) == [
        ("business", "\u2764\ufe0f"),
        ("customer", ""),
    ]


def test_an_agents_reply_quotes_the_customers_message(
    client: Client, services: Services, httpserver: HTTPServer, phone_number_id: str
) -> None:
    question = new_wamid()
    deliver(client, inbound(phone_number_id, WA, text("Where is my parcel?", wamid=question)))
    meta = Meta(httpserver, services)
    meta.accepts(phone_number_id)
    answer = send_message(client, phone_number_id, WA, type="text", text="On its way", replyTo=question)
    assert answer.status_code == 202, answer.text
    assert answer.json["quoted"]["text"] == "Where is my parcel?"
    assert meta.received[-1]["context"] == {"message_id": question}
    [shown] = [m for m in messages(client, phone_number_id, WA) if m["direction"] == "outbound"]
    assert shown["quoted"]["direction"] == "inbound"
