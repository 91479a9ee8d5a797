"""The agent's Send button: the window check, exactly what goes to Meta, Meta's errors, retries, and
sending at most once per clientMessageId. Meta is a local stand-in (pytest-httpserver) that checks
every body it receives against Meta's OpenAPI document (tests/meta_openapi.py)."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from werkzeug.test import Client

from shared.conversations.documents import conversation_id
from shared.conversations.ports import StoreUnavailable
from shared.services import Services
from shared.whatsapp.graph_client import GraphClient
from tests.api import deliver, messages, send_message
from tests.meta_openapi import assert_meta_accepts, problems
from tests.payloads import envelope, inbound, message, signed, status

WA = "447700900123"
TOKEN = "test-access-token"


class Meta:
    """The stand-in Graph API and what the app did to it.

    Like Meta, it refuses (code 100) a body its OpenAPI document does not describe; `received` and the
    `meta` fixture's teardown check every body the app sent, whoever answered it."""

    def __init__(self, server: HTTPServer, services: Services, timeout: tuple[float, float] = (3.0, 10.0)):
        # Generous by default: the stand-in validates every body against Meta's 1 MB OpenAPI document,
        # which on a loaded 2-core machine can take a while; the no-answer test asks for a short one.
        self.server = server
        self.sleeps: list[float] = []
        services.sender = GraphClient(
            server.url_for("/").rstrip("/"), "v23.0", TOKEN, sleep=self.sleeps.append, timeout=timeout
        )

    def path(self, phone_number_id: str) -> str:
        return f"/v23.0/{phone_number_id}/messages"

    def accepts(
        self, phone_number_id: str, wamid: str = "wamid.HBgLNDQ3NzAwOTAwMTIzFQIAERgSQUJD", wa_id: str = WA
    ) -> None:
        def answer(request: Request) -> Response:
            body = json.loads(request.get_data())
            found = problems(body)
            if found:
                return metas_refusal(100, "(#100) Invalid parameter", "; ".join(found))
            contact = (
                {"input": body["to"], "wa_id": wa_id}
                if "to" in body
                else {"input": body["recipient"], "user_id": body["recipient"]}
            )
            payload = {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}
            return Response(json.dumps(payload), content_type="application/json")

        self.server.expect_request(self.path(phone_number_id), method="POST").respond_with_handler(answer)

    def refuses(
        self, phone_number_id: str, code: int, http_status: int = 400, details: str = "", times: int = 1
    ) -> None:
        for _ in range(times):
            self.server.expect_ordered_request(self.path(phone_number_id), method="POST").respond_with_json(
                {
                    "error": {
                        "message": f"(#{code}) refused",
                        "type": "OAuthException",
                        "code": code,
                        "error_data": {
                            "messaging_product": "whatsapp",
                            "details": details or f"details of {code}",
                        },
                        "fbtrace_id": "AbCdEf",
                    }
                },
                status=http_status,
            )

    def templates_path(self, waba_id: str) -> str:
        return f"/v23.0/{waba_id}/message_templates"

    def has_templates(self, waba_id: str, templates: list[dict[str, Any]], per_page: int = 25) -> None:
        """`GET /{WABA-ID}/message_templates` as Graph answers it: `per_page` a page with
        `paging.cursors`, each but the last with a `paging.next` URL (the Graph host, the `after` cursor)."""

        def answer(request: Request) -> Response:
            start = int(request.args.get("after", "0"))
            page: dict[str, Any] = {"data": templates[start : start + per_page]}
            cursors = {"before": str(start), "after": str(start + per_page)}
            if start + per_page < len(templates):
                more = {**request.args.to_dict(), "after": str(start + per_page)}
                page["paging"] = {
                    "cursors": cursors,
                    "next": f"{self.server.url_for(request.path)}?{urlencode(more)}",
                }
            else:
                page["paging"] = {"cursors": cursors}
            return Response(json.dumps(page), content_type="application/json")

        self.server.expect_request(self.templates_path(waba_id), method="GET").respond_with_handler(answer)

    def template_reads(self, waba_id: str) -> list[Request]:
        return [request for request, _ in self.server.log if request.path == self.templates_path(waba_id)]

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every body sent to `/messages`, each checked against Meta's OpenAPI document."""
        bodies = [
            json.loads(request.get_data())
            for request, _ in self.server.log
            if request.path.endswith("/messages")
        ]
        for body in bodies:
            assert_meta_accepts(body)
        return bodies


def metas_refusal(code: int, message: str, details: str, status: int = 400) -> Response:
    """Meta's error object (WHATSAPP-NOTES.md §7)."""
    error = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "AbCdEf",
    }
    return Response(json.dumps({"error": error}), status=status, content_type="application/json")


@pytest.fixture
def meta(httpserver: HTTPServer, services: Services) -> Iterator[Meta]:
    stand_in = Meta(httpserver, services)
    yield stand_in
    stand_in.received  # noqa: B018 - checks every body the test made the app send against Meta's document
    httpserver.clear()


def customer_writes(client: Client, phone_number_id: str, ts: str | None = None) -> None:
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "Hi!"}, wa_id=WA, ts=ts)))


def send(client: Client, phone_number_id: str, **body: Any) -> Any:
    return send_message(client, phone_number_id, WA, **body)


def outbound(client: Client, phone_number_id: str) -> list[dict[str, Any]]:
    return [m for m in messages(client, phone_number_id, WA) if m["direction"] == "outbound"]


# --- inside the window ------------------------------------------------------------------------


def test_a_text_inside_the_window_goes_to_meta_and_shows_as_accepted(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id, wamid="wamid.ABC")
    response = send(
        client, phone_number_id, type="text", text="Your parcel ships today.", clientMessageId="c-1"
    )
    assert response.status_code == 202, response.text
    assert response.json["clientMessageId"] == "c-1"
    assert response.json["id"] == "out:c-1"  # a document id no control can collide with
    assert response.json["wamid"] == "wamid.ABC"
    assert response.json["status"] == "accepted"

    [request] = meta.server.log
    assert request[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request[0].get_data()) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+" + WA,
        "type": "text",
        "text": {"body": "Your parcel ships today.", "preview_url": False},
        "biz_opaque_callback_data": "out:c-1",
    }
    [shown] = outbound(client, phone_number_id)
    assert shown["text"] == "Your parcel ships today."
    assert shown["sentBy"] == "local-developer"


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        (
            {"type": "image", "mediaUrl": "https://cdn.example.com/a.png", "caption": "your receipt"},
            {"type": "image", "image": {"link": "https://cdn.example.com/a.png", "caption": "your receipt"}},
        ),
        (
            {
                "type": "document",
                "mediaUrl": "https://cdn.example.com/i.pdf",
                "caption": "invoice",
                "filename": "invoice.pdf",
            },
            {
                "type": "document",
                "document": {
                    "link": "https://cdn.example.com/i.pdf",
                    "caption": "invoice",
                    "filename": "invoice.pdf",
                },
            },
        ),
        (
            {"type": "audio", "mediaUrl": "https://cdn.example.com/v.ogg"},
            {"type": "audio", "audio": {"link": "https://cdn.example.com/v.ogg"}},
        ),
        (
            {"type": "video", "mediaUrl": "https://cdn.example.com/v.mp4", "caption": "how to"},
            {"type": "video", "video": {"link": "https://cdn.example.com/v.mp4", "caption": "how to"}},
        ),
        (
            {"type": "sticker", "mediaUrl": "https://cdn.example.com/s.webp"},
            {"type": "sticker", "sticker": {"link": "https://cdn.example.com/s.webp"}},
        ),
        (
            {"type": "text", "text": "see https://example.com", "previewUrl": True, "replyTo": "wamid.Q"},
            {
                "type": "text",
                "text": {"body": "see https://example.com", "preview_url": True},
                "context": {"message_id": "wamid.Q"},
            },
        ),
    ],
    ids=["image", "document", "audio", "video", "sticker", "text-reply-with-preview"],
)
def test_each_message_type_is_sent_in_metas_shape(
    client: Client, meta: Meta, phone_number_id: str, body: dict[str, Any], sent: dict[str, Any]
) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    response = send(client, phone_number_id, clientMessageId="m-1", **body)
    assert response.status_code == 202, response.text
    [received] = meta.received
    assert received == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+" + WA,
        "biz_opaque_callback_data": "out:m-1",
        **sent,
    }


def test_the_regarding_record_is_kept_with_the_message(
    client: Client, meta: Meta, phone_number_id: str, services: Services
) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    regarding = {"entity": "contact", "id": "6d1b8c6e-3f1a-4a47-9a59-8a3e5d2f6a11"}
    send(client, phone_number_id, type="text", text="hi", regarding=regarding, clientMessageId="r-1")
    stored = services.store.read(conversation_id(phone_number_id, WA), "out:r-1")
    assert stored is not None
    assert stored["regarding"] == regarding
    conversation = services.store.read(conversation_id(phone_number_id, WA), "conversation")
    assert conversation is not None
    assert conversation["regarding"] == regarding


def test_the_same_client_message_id_twice_sends_once(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id, wamid="wamid.ONCE")
    first = send(client, phone_number_id, type="text", text="double click", clientMessageId="dbl-1")
    second = send(client, phone_number_id, type="text", text="double click", clientMessageId="dbl-1")
    assert first.status_code == second.status_code == 202
    assert first.json["wamid"] == second.json["wamid"] == "wamid.ONCE"
    assert len(meta.received) == 1
    assert len(outbound(client, phone_number_id)) == 1


def test_statuses_then_move_the_sent_message_forward(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id, wamid="wamid.S1")
    send(client, phone_number_id, type="text", text="hello", clientMessageId="s-1")
    for state in ("sent", "delivered", "read"):
        body, headers = signed(envelope(phone_number_id, statuses=[status("wamid.S1", state, WA)]))
        client.post("/api/whatsapp/webhook", data=body, headers=headers)
        assert outbound(client, phone_number_id)[0]["status"] == state


def test_a_status_that_races_the_send_is_not_lost(client: Client, meta: Meta, phone_number_id: str) -> None:
    customer_writes(client, phone_number_id)

    def meta_answers_after_its_webhook(request: Request) -> Response:
        # Meta's "delivered" webhook reaches us before its answer to the send does; it names our
        # message as every status of a message we sent does (biz_opaque_callback_data).
        early = {**status("wamid.RACE", "delivered", WA), "biz_opaque_callback_data": "out:race-1"}
        body, headers = signed(envelope(phone_number_id, statuses=[early]))
        assert client.post("/api/whatsapp/webhook", data=body, headers=headers).status_code == 200
        payload = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": WA, "wa_id": WA}],
            "messages": [{"id": "wamid.RACE"}],
        }
        return Response(json.dumps(payload), content_type="application/json")

    meta.server.expect_request(meta.path(phone_number_id), method="POST").respond_with_handler(
        meta_answers_after_its_webhook
    )
    response = send(client, phone_number_id, type="text", text="quick", clientMessageId="race-1")
    assert response.json["status"] == "delivered"
    assert outbound(client, phone_number_id)[0]["status"] == "delivered"


def test_a_status_naming_our_message_finds_it_even_without_a_recorded_wamid(
    client: Client, meta: Meta, phone_number_id: str, services: Services
) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id, wamid="wamid.LOST")
    send(client, phone_number_id, type="text", text="hi", clientMessageId="lost-1")
    conv = conversation_id(phone_number_id, WA)
    services.store.update(
        conv, "lost-1", lambda doc: {**doc, "wamid": None} if doc else None
    )  # as if we crashed
    item = {**status("wamid.LOST", "read", WA), "biz_opaque_callback_data": "out:lost-1"}
    body, headers = signed(envelope(phone_number_id, statuses=[item]))
    client.post("/api/whatsapp/webhook", data=body, headers=headers)
    [shown] = outbound(client, phone_number_id)
    assert (shown["wamid"], shown["status"]) == ("wamid.LOST", "read")


# --- outside the window -----------------------------------------------------------------------


def test_a_customer_who_never_wrote_gets_a_409_and_nothing_leaves(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    response = send(client, phone_number_id, type="text", text="hello?")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "session_inactive"
    assert "within 24 hours of the customer's last message" in response.json["error"]["message"]
    assert meta.server.log == []
    assert outbound(client, phone_number_id) == []


def test_a_customer_who_wrote_more_than_a_day_ago_gets_a_409(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id, ts=str(int(time.time()) - 25 * 3600))
    assert send(client, phone_number_id, type="text", text="hello?").status_code == 409
    assert meta.server.log == []


def test_metas_own_window_refusal_is_a_409_and_closes_the_session(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    meta.refuses(phone_number_id, 131047)
    response = send(client, phone_number_id, type="text", text="hi", clientMessageId="w-1")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "session_inactive"
    [failed] = outbound(client, phone_number_id)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == 131047
    session = client.get(f"/api/conversations/{WA}/session", query_string={"phoneNumberId": phone_number_id})
    assert session.json["active"] is False


# --- Meta's errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [131026, 131051, 100])
def test_a_message_meta_refuses_is_a_422_with_metas_reason(
    client: Client, meta: Meta, phone_number_id: str, code: int
) -> None:
    customer_writes(client, phone_number_id)
    meta.refuses(phone_number_id, code, details="Recipient cannot be reached")
    response = send(client, phone_number_id, type="text", text="hi", clientMessageId="x-1")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "rejected_by_whatsapp"
    assert "Recipient cannot be reached" in response.json["error"]["message"]
    assert response.json["message"]["status"] == "failed"
    assert len(meta.received) == 1  # never retried
    # the same request again answers the same, without calling Meta
    again = send(client, phone_number_id, type="text", text="hi", clientMessageId="x-1")
    assert again.status_code == 422
    assert len(meta.received) == 1


def test_an_expired_token_is_a_502_for_the_operator_and_never_logged(
    client: Client, meta: Meta, phone_number_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    customer_writes(client, phone_number_id)
    meta.refuses(phone_number_id, 190, http_status=401)
    with caplog.at_level(logging.DEBUG):
        response = send(client, phone_number_id, type="text", text="hi")
    assert response.status_code == 502
    assert response.json["error"]["code"] == "whatsapp_auth_failed"
    assert "WHATSAPP_ACCESS_TOKEN" in response.json["error"]["message"]
    assert TOKEN not in caplog.text
    assert TOKEN not in response.text


@pytest.mark.parametrize("code", [130429, 80007, 4])
def test_throttling_is_retried_with_backoff_then_succeeds(
    client: Client, meta: Meta, phone_number_id: str, code: int
) -> None:
    customer_writes(client, phone_number_id)
    meta.refuses(phone_number_id, code, times=2)  # throttling arrives as HTTP 400
    meta.server.expect_ordered_request(meta.path(phone_number_id), method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": "wamid.LATER"}]}
    )
    response = send(client, phone_number_id, type="text", text="hi")
    assert response.status_code == 202
    assert len(meta.received) == 3
    assert len(meta.sleeps) == 2
    assert all(0 <= s <= 8 for s in meta.sleeps)


def test_lasting_throttling_is_a_429_with_retry_after(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    meta.refuses(phone_number_id, 130429, times=4)
    response = send(client, phone_number_id, type="text", text="hi", clientMessageId="t-1")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(response.json["error"]["retryAfterSeconds"])
    assert len(meta.received) == 4
    # Throttled means nothing went out: the same clientMessageId may try again, and goes through.
    meta.accepts(phone_number_id, wamid="wamid.AFTER")
    again = send(client, phone_number_id, type="text", text="hi", clientMessageId="t-1")
    assert again.status_code == 202
    assert again.json["wamid"] == "wamid.AFTER"
    assert len(outbound(client, phone_number_id)) == 1


def test_the_pair_rate_limit_waits_4_to_the_x_seconds(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    meta.refuses(phone_number_id, 131056, times=2)
    meta.server.expect_ordered_request(meta.path(phone_number_id), method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": "wamid.PAIR"}]}
    )
    assert send(client, phone_number_id, type="text", text="hi").status_code == 202
    assert meta.sleeps == [1.0, 4.0]


@pytest.mark.parametrize(
    ("http_status", "body"),
    [(503, "oops"), (502, "<html>Bad Gateway</html>"), (500, ""), (500, '{"error": {"message": "x"}}')],
    ids=["503-text", "502-gateway-page", "500-empty", "500-error-without-code"],
)
def test_a_5xx_without_metas_error_is_never_resent_and_stays_accepted(
    client: Client, meta: Meta, phone_number_id: str, http_status: int, body: str
) -> None:
    """Issue 11 item 7: such a 5xx may come after Meta took the message, so it is a 504 like a read
    timeout: never retried, the message stays `accepted`, and asking again replays it."""
    customer_writes(client, phone_number_id)
    meta.server.expect_request(meta.path(phone_number_id), method="POST").respond_with_data(
        body, status=http_status
    )
    response = send(client, phone_number_id, type="text", text="hi", clientMessageId="5xx-1")
    assert response.status_code == 504
    assert response.json["error"]["code"] == "whatsapp_no_answer"
    assert f"HTTP {http_status}" in response.json["error"]["message"]
    assert "may still arrive" in response.json["error"]["message"]
    assert response.json["message"]["status"] == "accepted"
    assert len(meta.received) == 1
    assert meta.sleeps == []
    again = send(client, phone_number_id, type="text", text="hi", clientMessageId="5xx-1")
    assert again.status_code == 202  # a replay of the stored message, never a second send
    assert len(meta.received) == 1


@pytest.mark.parametrize("code", [131000, 1, 2, 131016, 133004])
def test_a_5xx_with_metas_temporary_error_code_is_retried(
    client: Client, meta: Meta, phone_number_id: str, code: int
) -> None:
    """Meta's error object says this call failed (Meta: decide on `code`), and these codes mean
    "try again": retried as before."""
    customer_writes(client, phone_number_id)
    meta.refuses(phone_number_id, code, http_status=503)
    meta.server.expect_ordered_request(meta.path(phone_number_id), method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OK"}]}
    )
    assert send(client, phone_number_id, type="text", text="hi").status_code == 202
    assert len(meta.received) == 2
    assert len(meta.sleeps) == 1


def test_a_5xx_with_a_refusal_code_is_a_422_and_not_retried(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    meta.refuses(phone_number_id, 131026, http_status=500, details="Message undeliverable")
    response = send(client, phone_number_id, type="text", text="hi", clientMessageId="5xx-r")
    assert response.status_code == 422
    assert response.json["message"]["status"] == "failed"
    assert len(meta.received) == 1


# --- phone numbers go to Meta in full E.164 ------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["447700900123", "+44 7700 900123", "0044 7700 900123", "+44-7700-900-123"]
)
def test_the_number_goes_to_meta_as_e164_with_its_plus_whatever_the_spelling(
    client: Client, meta: Meta, phone_number_id: str, spelling: str
) -> None:
    """Issue 11 item 7: without the `+`, Meta would prepend the business number's country code
    (WHATSAPP-NOTES.md §5), so the number always goes as `+<country code><number>`."""
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id)
    response = send_message(client, phone_number_id, spelling, type="text", text="hi")
    assert response.status_code == 202, response.text
    [received] = meta.received
    assert received["to"] == "+447700900123"
    assert "recipient" not in received


def test_a_national_number_is_refused_before_anything_is_sent(
    client: Client, meta: Meta, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    response = send_message(client, phone_number_id, "07700 900123", type="text", text="hi")
    assert response.status_code == 400
    assert "country code" in response.json["error"]["message"]
    assert meta.server.log == []


def test_no_answer_from_meta_is_never_retried_so_nothing_is_sent_twice(
    client: Client, httpserver: HTTPServer, services: Services, phone_number_id: str
) -> None:
    meta = Meta(httpserver, services, timeout=(1, 1))
    customer_writes(client, phone_number_id)

    def slow(request: Request) -> Response:
        time.sleep(1.5)  # longer than the client's read timeout: Meta may well have sent it
        return Response("{}", content_type="application/json")

    meta.server.expect_request(meta.path(phone_number_id), method="POST").respond_with_handler(slow)
    response = send(client, phone_number_id, type="text", text="hi", clientMessageId="slow-1")
    assert response.status_code == 504
    assert response.json["error"]["code"] == "whatsapp_no_answer"
    assert response.json["message"]["status"] == "accepted"  # unknown, not failed: statuses may still come
    time.sleep(0.6)
    assert len(meta.received) == 1
    again = send(client, phone_number_id, type="text", text="hi", clientMessageId="slow-1")
    assert again.status_code == 202  # the agent's retry is a replay, never a second send
    assert len(meta.received) == 1
    item = {**status("wamid.LATE", "delivered", WA), "biz_opaque_callback_data": "out:slow-1"}
    body, headers = signed(envelope(phone_number_id, statuses=[item]))
    client.post("/api/whatsapp/webhook", data=body, headers=headers)
    assert outbound(client, phone_number_id)[0]["status"] == "delivered"


def test_meta_unreachable_is_retried_then_a_502_and_may_be_sent_again(
    client: Client, services: Services, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sleeps: list[float] = []
    services.sender = GraphClient(f"http://127.0.0.1:{closed_port}", "v23.0", TOKEN, sleep=sleeps.append)
    response = send(client, phone_number_id, type="text", text="hi", clientMessageId="down-1")
    assert response.status_code == 502
    assert response.json["error"]["code"] == "whatsapp_unavailable"
    assert len(sleeps) == 3  # four attempts: a refused connection never carried the message


# --- bad requests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"type": "text"},
        {"type": "text", "text": ""},
        {"type": "text", "text": "x" * 4097},
        {"type": "image"},
        {"type": "image", "mediaUrl": "http://insecure.example.com/a.png"},
        {"type": "image", "mediaUrl": "not a url"},
        {"type": "audio", "mediaUrl": "https://cdn.example.com/a.ogg", "caption": "no captions on audio"},
        {"type": "image", "mediaUrl": "https://cdn.example.com/a.png", "filename": "a.png"},
        {"type": "image", "mediaUrl": "https://cdn.example.com/a.png", "caption": "c" * 1025},
        {"type": "sticker", "mediaUrl": "https://cdn.example.com/a.webp", "caption": "stickers take none"},
        {"type": "location", "text": "not a send type"},
        {"type": "text", "text": "hi", "clientMessageId": "has spaces"},
        {"type": "text", "text": "hi", "surprise": 1},
        {"type": "text", "text": "hi", "regarding": {"entity": "account", "id": "x"}},
    ],
)
def test_a_bad_send_request_is_a_400_with_a_clear_message(
    client: Client, meta: Meta, phone_number_id: str, body: dict[str, Any]
) -> None:
    customer_writes(client, phone_number_id)
    response = send(client, phone_number_id, **body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_request"
    assert response.json["error"]["message"]
    assert meta.server.log == []


def test_a_body_that_is_not_json_is_a_400(client: Client, phone_number_id: str) -> None:
    response = client.post(
        f"/api/conversations/{WA}/messages", query_string={"phoneNumberId": phone_number_id}, data=b"{nope"
    )
    assert response.status_code == 400


class FailsAfterCreate:
    """The real store, except that once the message is created, every write finds Cosmos DB gone."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.created = False

    def create_document(self, document: dict[str, Any]) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.inner.create_document(document)
        self.created = self.created or document.get("type") == "message"
        return found

    def create(self, document: dict[str, Any]) -> bool:
        return self.create_document(document) is not None

    def _gone(self, *args: Any, **kwargs: Any) -> Any:
        if self.created:
            raise StoreUnavailable("Cosmos DB batch failed: ServiceResponseError")
        return None

    def write_batch(self, *args: Any, **kwargs: Any) -> Any:
        self._gone()
        return self.inner.write_batch(*args, **kwargs)

    def update(self, *args: Any, **kwargs: Any) -> Any:
        self._gone()
        return self.inner.update(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_store_failure_after_meta_accepted_is_not_a_refusal_and_the_statuses_record_it(
    client: Client, meta: Meta, phone_number_id: str, services: Services
) -> None:
    """Meta has the message: a 503 ("nothing was sent") would have the agent send it twice. The send
    answers 202 with Meta's id, and the first status (naming our message) records it."""
    customer_writes(client, phone_number_id)
    meta.accepts(phone_number_id, wamid="wamid.KEPT")
    healthy = services.store
    services.store = FailsAfterCreate(healthy)

    response = send(client, phone_number_id, type="text", text="kept", clientMessageId="kept-1")
    services.store = healthy

    assert response.status_code == 202, response.text
    assert (response.json["wamid"], response.json["status"]) == ("wamid.KEPT", "accepted")
    item = {**status("wamid.KEPT", "delivered", WA), "biz_opaque_callback_data": "out:kept-1"}
    body, headers = signed(envelope(phone_number_id, statuses=[item]))
    client.post("/api/whatsapp/webhook", data=body, headers=headers)
    [shown] = outbound(client, phone_number_id)
    assert (shown["wamid"], shown["status"]) == ("wamid.KEPT", "delivered")
