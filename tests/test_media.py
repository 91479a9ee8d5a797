"""Media: the agent's uploads (type checks, limits, short-lived read-only URLs), sending them, and
customers' files copied from Meta into Blob Storage. Blob Storage is Azurite; Meta is a stand-in."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
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
from shared.media.inbound_copy import CopyInboundMedia, MediaIntegrityError
from shared.media.names import inbound_blob_name
from shared.services import Services
from shared.storage.names import MEDIA_INBOUND_QUEUE
from shared.whatsapp.graph_client import GraphClient
from tests.api import deliver, messages, send_message
from tests.conftest import Queues
from tests.media_files import docx, exe, jpeg, pdf, png
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
        return [json.loads(r.get_data()) for r, _ in self.server.log if r.path.endswith("/messages")]


@pytest.fixture
def meta(httpserver: HTTPServer, services: Services) -> MetaMedia:
    return MetaMedia(httpserver, services)


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
