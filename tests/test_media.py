"""Media: the agent's uploads (type checks, limits, short-lived read-only URLs), sending them, and
customers' files copied from Meta into Blob Storage. Blob Storage is Azurite; Meta is a stand-in."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from urllib3 import encode_multipart_formdata
from werkzeug import Request, Response
from werkzeug.test import Client

from devhost.host import LocalFunctionsHost, QueueRules
from shared.conversations.documents import conversation_id, document_id
from shared.conversations.queue_messages import MediaCopyRequest
from shared.media.contents import check_contents
from shared.media.inbound_copy import CopyInboundMedia, MediaIntegrityError
from shared.media.names import inbound_blob_name
from shared.media.rules import MediaRejected, classify
from shared.services import Services
from shared.storage.names import MEDIA_INBOUND_QUEUE
from shared.whatsapp.graph_client import GraphClient
from tests.api import deliver, messages, send_message
from tests.conftest import Queues
from tests.media_files import docx, exe, jpeg, pdf, png
from tests.media_samples import mp4, ogg_opus, ogg_vorbis, webp
from tests.meta_openapi import assert_meta_accepts
from tests.payloads import inbound, message, new_wamid

WA = "447700900123"
TOKEN = "test-access-token"


def upload(
    client: Client, content: bytes, filename: str, content_type: str = "application/octet-stream"
) -> Any:
    """As a browser's form posts it (urllib3 encodes the multipart body the standard way)."""
    body, multipart_type = encode_multipart_formdata({"file": (filename, content, content_type)})
    return client.post("/api/media", data=body, headers={"Content-Type": multipart_type})


# --- uploads ----------------------------------------------------------------------------------


def test_an_uploaded_png_comes_back_as_a_url_that_serves_the_same_bytes(client: Client) -> None:
    picture = png()
    response = upload(client, picture, "receipt.png", "image/png")
    assert response.status_code == 201, response.text
    result = response.json
    assert result["mimeType"] == "image/png"
    assert result["kind"] == "image"
    assert result["size"] == len(picture)
    assert result["sha256"] == hashlib.sha256(picture).hexdigest()
    assert result["blobName"].startswith(time.strftime("outbound/%Y/%m/"))
    assert result["blobName"].endswith("/receipt.png")
    served = requests.get(result["mediaUrl"], timeout=5)
    assert served.status_code == 200
    assert served.content == picture
    assert served.headers["Content-Type"] == "image/png"


def test_a_raw_body_with_x_filename_is_accepted(client: Client) -> None:
    response = client.post(
        "/api/media",
        data=pdf(),
        headers={"Content-Type": "application/pdf", "X-Filename": "Invoice%202026.pdf"},
    )
    assert response.status_code == 201, response.text
    assert response.json["kind"] == "document"
    assert response.json["filename"] == "Invoice-2026.pdf"


def test_the_real_type_comes_from_the_bytes_not_the_declared_type(client: Client) -> None:
    response = upload(client, docx(), "contract.docx", "text/plain")
    assert response.status_code == 201
    assert response.json["mimeType"].endswith("wordprocessingml.document")


@pytest.mark.parametrize(
    ("content", "filename", "status", "code"),
    [
        (exe(), "setup.exe", 415, "unsupported_media_type"),
        (pdf(), "holiday.png", 415, "unsupported_media_type"),  # a lying extension
        (png()[:8] + b"\x00" * (5 * 1024 * 1024), "huge.png", 413, "file_too_large"),
        (b"", "empty.pdf", 400, "empty_file"),
    ],
    ids=["executable", "lying-extension", "image-over-5-mb", "empty"],
)
def test_files_whatsapp_would_refuse_are_refused_with_a_clear_message(
    client: Client, content: bytes, filename: str, status: int, code: str
) -> None:
    response = upload(client, content, filename)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


# --- what is inside: codecs and sticker sizes WhatsApp would refuse after the send (131053) --------


ACCEPTED_INSIDE = [
    pytest.param(ogg_opus(), "voice.ogg", "audio/ogg", "audio", id="ogg-opus"),
    pytest.param(mp4(), "clip.mp4", "video/mp4", "video", id="mp4-h264-aac"),
    pytest.param(mp4(audio=None), "silent.mp4", "video/mp4", "video", id="mp4-h264-silent"),
    pytest.param(mp4(brand=b"3gp4"), "clip.3gp", "video/3gpp", "video", id="3gpp-h264-aac"),
    pytest.param(mp4(video=None, brand=b"M4A "), "song.m4a", "audio/mp4", "audio", id="m4a-aac"),
    pytest.param(webp(), "sticker.webp", "image/webp", "sticker", id="webp-512-lossy"),
    pytest.param(webp(lossless=True), "sticker.webp", "image/webp", "sticker", id="webp-512-lossless"),
    pytest.param(webp(animated=True), "sticker.webp", "image/webp", "sticker", id="webp-512-animated"),
]
REFUSED_INSIDE = [
    pytest.param(ogg_vorbis(), "song.ogg", "OGG Vorbis", id="ogg-vorbis"),
    pytest.param(b"OggS" + b"\x00" * 200, "broken.ogg", "not readable OGG audio", id="ogg-unreadable"),
    pytest.param(mp4(video=b"hvc1"), "iphone.mp4", "HEVC (H.265)", id="mp4-hevc"),
    pytest.param(mp4(video=b"av01"), "clip.mp4", "AV1", id="mp4-av1"),
    pytest.param(mp4(audio="mp3"), "clip.mp4", "sound is MP3", id="mp4-mp3-audio"),
    pytest.param(mp4(video=b"s263", audio="amr", brand=b"3gp4"), "old.3gp", "H.263", id="3gpp-h263"),
    pytest.param(mp4(audio="amr", brand=b"3gp4"), "clip.3gp", "sound is AMR", id="3gpp-amr-audio"),
    pytest.param(webp(300, 200), "sticker.webp", "300×200 pixels", id="webp-300x200"),
    pytest.param(webp(256, 256, animated=True), "sticker.webp", "256×256 pixels", id="webp-animated-256"),
]


@pytest.mark.parametrize(("content", "filename", "mime_type", "kind"), ACCEPTED_INSIDE)
def test_what_whatsapp_plays_passes_the_content_checks(
    content: bytes, filename: str, mime_type: str, kind: str
) -> None:
    media_type = classify(content[:8192], len(content), filename)
    assert (media_type.mime_type, media_type.kind) == (mime_type, kind)
    check_contents(io.BytesIO(content), media_type.mime_type)


@pytest.mark.parametrize(("content", "filename", "reason"), REFUSED_INSIDE)
def test_what_whatsapp_would_refuse_after_the_send_is_a_415_with_the_reason(
    content: bytes, filename: str, reason: str
) -> None:
    """Issue 11 item 7: OGG must be Opus, MP4/3GPP H.264 with AAC, stickers 512x512."""
    media_type = classify(content[:8192], len(content), filename)
    with pytest.raises(MediaRejected) as refused:
        check_contents(io.BytesIO(content), media_type.mime_type)
    assert refused.value.status == 415
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("content", "filename", "reason"),
    [
        (ogg_vorbis(), "song.ogg", "Opus"),
        (mp4(video=b"hvc1"), "iphone.mp4", "H.264"),
        (webp(300, 200), "sticker.webp", "512×512"),
    ],
    ids=["ogg-vorbis", "mp4-hevc", "small-sticker"],
)
def test_an_upload_whatsapp_would_refuse_after_the_send_is_refused_at_upload(
    client: Client, content: bytes, filename: str, reason: str
) -> None:
    response = upload(client, content, filename)
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"
    assert reason in response.json["error"]["message"]


def test_an_upload_without_a_file_is_a_400(client: Client) -> None:
    body, multipart_type = encode_multipart_formdata({"other": "x"})
    assert client.post("/api/media", data=body, headers={"Content-Type": multipart_type}).status_code == 400
    assert client.post("/api/media", data=png(), headers={"Content-Type": "image/png"}).status_code == 400


def test_the_media_url_is_read_only_and_expires(client: Client, services: Services) -> None:
    result = upload(client, png(), "p.png").json
    overwrite = requests.put(
        result["mediaUrl"], data=b"evil", headers={"x-ms-blob-type": "BlockBlob"}, timeout=5
    )
    assert overwrite.status_code == 403
    assert requests.delete(result["mediaUrl"], timeout=5).status_code == 403
    expired = services.media.read_url(result["blobName"], minutes=-10)
    assert requests.get(expired, timeout=5).status_code == 403
    assert requests.get(result["mediaUrl"], timeout=5).content == png()


# --- sending media ----------------------------------------------------------------------------


class MetaMedia:
    """The stand-in Graph API's media edges: uploads, lookups, downloads."""

    def __init__(self, server: HTTPServer, services: Services):
        self.server = server
        self.uploads: list[tuple[bytes, str, dict[str, str]]] = []
        services.sender = GraphClient(server.url_for("/").rstrip("/"), "v23.0", TOKEN, sleep=lambda _: None)

    def accepts_uploads(self, phone_number_id: str) -> None:
        def handler(request: Request) -> Response:
            part = request.files["file"]
            self.uploads.append((part.read(), part.mimetype, dict(request.form)))
            return Response(json.dumps({"id": f"media-{len(self.uploads)}"}), content_type="application/json")

        self.server.expect_request(f"/v23.0/{phone_number_id}/media", method="POST").respond_with_handler(
            handler
        )

    def accepts_sends(self, phone_number_id: str) -> None:
        self.server.expect_request(f"/v23.0/{phone_number_id}/messages", method="POST").respond_with_json(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": WA, "wa_id": WA}],
                "messages": [{"id": "wamid.M"}],
            }
        )

    def serves(self, media_id: str, content: bytes, mime_type: str, sha256: str | None = None) -> None:
        self.server.expect_request(f"/v23.0/{media_id}", method="GET").respond_with_json(
            {
                "messaging_product": "whatsapp",
                "url": self.server.url_for(f"/download/{media_id}"),
                "mime_type": mime_type,
                "sha256": sha256 or base64.b64encode(hashlib.sha256(content).digest()).decode(),
                "file_size": len(content),
                "id": media_id,
            }
        )

        def download(request: Request) -> Response:
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return Response(status=401)
            return Response(content, content_type=mime_type)

        self.server.expect_request(f"/download/{media_id}", method="GET").respond_with_handler(download)

    def sends(self) -> list[dict[str, Any]]:
        """Every body sent to `/messages`, each checked against Meta's OpenAPI document."""
        bodies = [json.loads(r.get_data()) for r, _ in self.server.log if r.path.endswith("/messages")]
        for body in bodies:
            assert_meta_accepts(body)
        return bodies


@pytest.fixture
def meta(httpserver: HTTPServer, services: Services) -> Iterator[MetaMedia]:
    stand_in = MetaMedia(httpserver, services)
    yield stand_in
    stand_in.sends()  # every body the test made the app send is one Meta's document describes


def customer_writes(client: Client, phone_number_id: str, *sent: dict[str, Any]) -> None:
    deliver(client, inbound(phone_number_id, WA, *(sent or [message("text", {"body": "hi"}, wa_id=WA)])))


def send(client: Client, phone_number_id: str, **body: Any) -> Any:
    return send_message(client, phone_number_id, WA, **body)


def history(client: Client, phone_number_id: str) -> list[dict[str, Any]]:
    return messages(client, phone_number_id, WA)


def test_an_uploaded_image_is_sent_by_meta_media_id_and_kept_as_a_blob(
    client: Client, meta: MetaMedia, services: Services, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    picture = png()
    uploaded = upload(client, picture, "receipt.png").json
    meta.accepts_uploads(phone_number_id)
    meta.accepts_sends(phone_number_id)
    response = send(
        client,
        phone_number_id,
        type="image",
        mediaUrl=uploaded["mediaUrl"],
        caption="your receipt",
        clientMessageId="img-1",
    )
    assert response.status_code == 202, response.text

    [(content, mime_type, form)] = meta.uploads
    assert (content, mime_type) == (picture, "image/png")
    assert form == {"messaging_product": "whatsapp", "type": "image/png"}
    [sent] = meta.sends()
    assert sent["image"] == {"id": "media-1", "caption": "your receipt"}
    stored = services.store.read(conversation_id(phone_number_id, WA), "out:img-1")
    assert stored is not None
    assert stored["media"]["blobName"] == uploaded["blobName"]
    assert "url" not in stored["media"]  # history keeps the blob, never a URL that expires
    [shown] = [m for m in history(client, phone_number_id) if m["direction"] == "outbound"]
    assert requests.get(shown["media"]["url"], timeout=5).content == picture


@pytest.mark.parametrize(
    ("content", "filename", "body", "sent"),
    [
        (png(), "receipt.png", {"type": "image"}, {"id": "media-1"}),
        (png(), "receipt.png", {"type": "image", "caption": "c"}, {"id": "media-1", "caption": "c"}),
        (pdf(), "inv.pdf", {"type": "document"}, {"id": "media-1", "filename": "inv.pdf"}),
        (
            pdf(),
            "inv.pdf",
            {"type": "document", "caption": "c", "filename": "March.pdf"},
            {"id": "media-1", "caption": "c", "filename": "March.pdf"},
        ),
        (ogg_opus(), "voice.ogg", {"type": "audio"}, {"id": "media-1"}),
        (mp4(), "clip.mp4", {"type": "video", "caption": "how to"}, {"id": "media-1", "caption": "how to"}),
        (webp(), "sticker.webp", {"type": "sticker"}, {"id": "media-1"}),
        (webp(animated=True), "wave.webp", {"type": "sticker", "replyTo": "wamid.Q"}, {"id": "media-1"}),
    ],
    ids=[
        "image",
        "image-caption",
        "document",
        "document-caption-filename",
        "audio",
        "video-caption",
        "sticker",
        "animated-sticker-reply",
    ],
)
def test_each_kind_of_upload_is_sent_by_media_id_in_metas_shape(
    client: Client,
    meta: MetaMedia,
    phone_number_id: str,
    content: bytes,
    filename: str,
    body: dict[str, Any],
    sent: dict[str, Any],
) -> None:
    customer_writes(client, phone_number_id)
    uploaded = upload(client, content, filename)
    assert uploaded.status_code == 201, uploaded.text
    meta.accepts_uploads(phone_number_id)
    meta.accepts_sends(phone_number_id)
    response = send(client, phone_number_id, mediaUrl=uploaded.json["mediaUrl"], **body)
    assert response.status_code == 202, response.text
    [received] = meta.sends()  # checked against Meta's OpenAPI document
    assert received[body["type"]] == sent
    assert received["to"] == "+" + WA
    assert ("context" in received) == ("replyTo" in body)


def test_an_external_https_url_is_sent_by_link(client: Client, meta: MetaMedia, phone_number_id: str) -> None:
    customer_writes(client, phone_number_id)
    meta.accepts_sends(phone_number_id)
    response = send(
        client, phone_number_id, type="document", mediaUrl="https://cdn.example.com/i.pdf", filename="i.pdf"
    )
    assert response.status_code == 202
    assert meta.sends()[0]["document"] == {"link": "https://cdn.example.com/i.pdf", "filename": "i.pdf"}


def test_an_upload_sent_as_the_wrong_type_is_a_400(
    client: Client, meta: MetaMedia, phone_number_id: str
) -> None:
    customer_writes(client, phone_number_id)
    uploaded = upload(client, pdf(), "invoice.pdf").json
    response = send(client, phone_number_id, type="image", mediaUrl=uploaded["mediaUrl"])
    assert response.status_code == 400
    assert "document" in response.json["error"]["message"]
    assert meta.server.log == []


def test_a_plain_http_url_elsewhere_is_a_400(client: Client, meta: MetaMedia, phone_number_id: str) -> None:
    customer_writes(client, phone_number_id)
    response = send(client, phone_number_id, type="image", mediaUrl="http://cdn.example.com/a.png")
    assert response.status_code == 400
    assert "https" in response.json["error"]["message"]


# --- customers' files -------------------------------------------------------------------------


def image_message(wamid: str, media_id: str, content: bytes) -> dict[str, Any]:
    sha = base64.b64encode(hashlib.sha256(content).digest()).decode()
    body = {"caption": "my receipt", "mime_type": "image/jpeg", "sha256": sha, "id": media_id}
    return message("image", body, wa_id=WA, wamid=wamid)


def inbound_name(phone_number_id: str, wamid: str, mime_type: str, timestamp: str) -> str:
    at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    return inbound_blob_name(conversation_id(phone_number_id, WA), document_id(wamid), mime_type, at)


def queued_copy(queues: Queues) -> MediaCopyRequest:
    [request] = queues.messages(MEDIA_INBOUND_QUEUE)
    return MediaCopyRequest.model_validate(request)


def copier(services: Services) -> CopyInboundMedia:
    return CopyInboundMedia(services.store, services.media, services.sender, services.queue)


def test_a_customers_image_is_copied_byte_exact_and_shown_with_a_fresh_url(
    client: Client, meta: MetaMedia, services: Services, queues: Queues, phone_number_id: str
) -> None:
    photo = jpeg()
    wamid = new_wamid()
    customer_writes(client, phone_number_id, image_message(wamid, "m-100", photo))
    meta.serves("m-100", photo, "image/jpeg")
    assert copier(services)(queued_copy(queues)) == "copied"

    [shown] = history(client, phone_number_id)
    assert shown["media"]["status"] == "stored"
    assert shown["media"]["size"] == len(photo)
    served = requests.get(shown["media"]["url"], timeout=5)
    assert served.content == photo
    assert served.headers["Content-Type"] == "image/jpeg"


def test_copying_twice_changes_nothing_and_asks_meta_once(
    client: Client, meta: MetaMedia, services: Services, queues: Queues, phone_number_id: str
) -> None:
    photo = jpeg()
    customer_writes(client, phone_number_id, image_message(new_wamid(), "m-200", photo))
    meta.serves("m-200", photo, "image/jpeg")
    request = queued_copy(queues)
    assert copier(services)(request) == "copied"
    calls = len(meta.server.log)
    assert copier(services)(request) == "already-copied"
    assert len(meta.server.log) == calls


def test_media_meta_no_longer_has_is_marked_unavailable(
    client: Client, meta: MetaMedia, services: Services, queues: Queues, phone_number_id: str
) -> None:
    wamid = new_wamid()
    customer_writes(client, phone_number_id, image_message(wamid, "m-gone", jpeg()))
    meta.server.expect_request("/v23.0/m-gone").respond_with_json(
        {"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}}, status=404
    )
    assert copier(services)(queued_copy(queues)) == "unavailable"
    [shown] = history(client, phone_number_id)
    assert shown["media"]["status"] == "unavailable"
    assert "url" not in shown["media"]


def test_a_download_that_does_not_match_metas_sha256_is_refused(
    client: Client, meta: MetaMedia, services: Services, queues: Queues, phone_number_id: str
) -> None:
    photo = jpeg()
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    message_ = image_message(new_wamid(), "m-bad", photo)
    message_["image"]["sha256"] = wrong
    customer_writes(client, phone_number_id, message_)
    meta.serves("m-bad", photo, "image/jpeg", sha256=wrong)
    with pytest.raises(MediaIntegrityError):
        copier(services)(queued_copy(queues))
    [shown] = history(client, phone_number_id)
    assert "blobName" not in shown["media"]
    with pytest.raises(KeyError):  # the copied bytes were removed, not left half-trusted
        services.media.open(
            inbound_name(phone_number_id, message_["id"], "image/jpeg", message_["timestamp"])
        )


def test_the_queue_trigger_copies_media_end_to_end(
    client: Client, meta: MetaMedia, services: Services, queues: Queues, phone_number_id: str
) -> None:
    import azure.functions as func

    from functions import media

    app = func.FunctionApp()  # the media function alone, as the host runs it
    app.register_functions(media.bp)
    photo = jpeg()
    wamid = new_wamid()
    meta.serves("m-300", photo, "image/jpeg")
    customer_writes(client, phone_number_id, image_message(wamid, "m-300", photo))
    host = LocalFunctionsHost(
        app,
        {"AzureWebJobsStorage": os.environ["AzureWebJobsStorage"]},
        QueueRules(max_polling_interval=0.2),
        port=0,
    )
    host.start_in_background()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            stored = services.store.read(conversation_id(phone_number_id, WA), document_id(wamid))
            if stored and stored["media"].get("status") == "stored":
                break
            time.sleep(0.2)
    finally:
        host.stop()
    assert stored is not None
    assert stored["media"]["status"] == "stored"
    assert b"".join(services.media.open(stored["media"]["blobName"]).chunks) == photo
