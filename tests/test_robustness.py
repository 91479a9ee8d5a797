"""Bad input never causes a 500 or a partial write; a store that goes away gets a 5xx and Meta's retry
then completes the work with nothing lost and nothing duplicated."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from shared import services as services_module
from shared.conversations.documents import conversation_id, document_id
from shared.conversations.ports import UNREAD, Change, Doc, Unread, Write
from shared.services import Services
from shared.storage.cosmos_store import CosmosConversationStore
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from tests.conftest import Queues
from tests.payloads import MESSAGE_TYPES, inbound, message, new_wamid, signed

WA = "15551230000"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class RecordingStore:
    """Counts writes, so a refused request can be shown to have written nothing."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.writes = 0

    def create(self, document: Doc) -> bool:
        return self.create_document(document) is not None

    def create_document(self, document: Doc) -> Doc | None:
        self.writes += 1
        result: Doc | None = self.inner.create_document(document)
        return result

    def update(
        self, partition: str, document_id: str, change: Change, current: Doc | Unread | None = UNREAD
    ) -> Doc | None:
        self.writes += 1
        result: Doc | None = self.inner.update(partition, document_id, change, current)
        return result

    def write_batch(self, partition: str, writes: Sequence[Write]) -> list[Doc]:
        self.writes += 1
        result: list[Doc] = self.inner.write_batch(partition, writes)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def _mutations(base: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A real payload with one value somewhere replaced by arbitrary JSON."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(base, ())

    def replace(path: tuple[Any, ...], value: Any) -> Any:
        if not path:
            return value
        mutated = copy.deepcopy(base)
        node = mutated
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return mutated

    return st.builds(replace, st.sampled_from(paths), json_values)


def _post(client: Client, body: bytes) -> int:
    _, headers = signed(body)
    return int(client.post("/api/whatsapp/webhook", data=body, headers=headers).status_code)


@FAST
@given(body=st.binary(max_size=300))
def test_arbitrary_signed_bytes_never_cause_a_500_or_a_write(
    client: Client, services: Services, body: bytes
) -> None:
    store = RecordingStore(services.store)
    services.store = store
    assert _post(client, body) in (200, 400)
    assert store.writes == 0 or json.loads(body)  # only a valid webhook can write


@FAST
@given(payload=json_values)
def test_arbitrary_json_never_causes_a_500_or_a_write(
    client: Client, services: Services, payload: Any
) -> None:
    store = RecordingStore(services.store)
    services.store = store
    status = _post(client, json.dumps(payload).encode())
    assert status in (200, 400)
    if status == 400:
        assert store.writes == 0


def updates_in(payload: Any) -> int | None:
    """How many updates a webhook must account for (stored, duplicate, status or rejected), read the way
    Meta documents the body; None when it is not a WhatsApp webhook at all (a 400)."""
    if not (
        isinstance(payload, dict)
        and payload.get("object") == "whatsapp_business_account"
        and isinstance(payload.get("entry"), list)
    ):
        return None
    count = 0
    for entry in payload["entry"]:
        changes = entry.get("changes", []) if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            count += 1  # the entry itself is set aside
            continue
        for change in changes:
            if not isinstance(change, dict) or not isinstance(change.get("field"), str):
                count += 1
            elif change["field"] in ("messages", "smb_message_echoes"):
                value = change.get("value")
                if not isinstance(value, dict):
                    count += 1
                    continue
                for key in ("messages", "message_echoes", "statuses"):
                    items = value.get(key)
                    count += 0 if items is None else len(items) if isinstance(items, list) else 1
    return count


@FAST
@given(data=st.data())
def test_a_damaged_real_payload_accounts_for_every_update_and_a_400_writes_nothing(
    client: Client, services: Services, data: Any
) -> None:
    """Since issue 11 a damaged update is set aside (`rejected`) and the rest stored, with a 200: only a
    body that is no webhook at all is a 400. Either way nothing is silently dropped."""
    kind, body, _ = MESSAGE_TYPES[data.draw(st.sampled_from(sorted(MESSAGE_TYPES)))]
    base = inbound(
        "555000111222", WA, message(kind, body, wa_id=WA), message("text", {"body": "2nd"}, wa_id=WA)
    )
    payload = data.draw(_mutations(base))
    store = RecordingStore(services.store)
    services.store = store
    raw = json.dumps(payload).encode()
    response = client.post("/api/whatsapp/webhook", data=raw, headers=signed(raw)[1])
    expected = updates_in(payload)
    if expected is None:
        assert response.status_code == 400
        assert store.writes == 0
    else:
        assert response.status_code == 200, response.text
        answer = response.json
        assert answer["stored"] + answer["duplicates"] + answer["statuses"] + answer["rejected"] == expected


# --- a store that goes away mid-request --------------------------------------------------------


class FailingContainer:
    """The real Cosmos container, except that call number `fail_at` raises a connection error."""

    def __init__(self, inner: Any, fail_at: int):
        self.inner = inner
        self.fail_at = fail_at
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self.fail_at:
                raise ServiceRequestError("connection reset by peer")
            return target(*args, **kwargs)

        return call


def _failing_store(services: Services, fail_at: int) -> CosmosConversationStore:
    assert isinstance(services.store, CosmosConversationStore)
    failing = FailingContainer(services.store.container, fail_at)
    return CosmosConversationStore(lambda: failing)  # type: ignore[arg-type, return-value]


# A new customer's first message: the query for its home (conversation and session), then one batch.
CALLS_PER_NEW_MESSAGE = 2


@pytest.mark.mirror_on
@pytest.mark.parametrize("fail_at", range(1, 8))
def test_the_store_going_away_mid_request_is_a_5xx_and_metas_retry_completes_it(
    client: Client, services: Services, queues: Queues, phone_number_id: str, fail_at: int
) -> None:
    wamid = new_wamid()
    body, headers = signed(
        inbound(phone_number_id, WA, message("text", {"body": "important"}, wa_id=WA, wamid=wamid))
    )
    healthy = services.store
    services.store = _failing_store(services, fail_at)
    first = client.post("/api/whatsapp/webhook", data=body, headers=headers)
    services.store = healthy
    if first.status_code == 200:  # the failure point lay beyond this request's last call
        assert fail_at > CALLS_PER_NEW_MESSAGE
    else:
        assert first.status_code == 503
        assert first.headers["Retry-After"]
        retry = client.post("/api/whatsapp/webhook", data=body, headers=headers)
        assert retry.status_code == 200

    conv = conversation_id(phone_number_id, WA)
    messages = services.store.list_messages(conv, 10, None)
    assert [m["wamid"] for m in messages] == [wamid]
    assert services.store.read(conv, "session") is not None
    conversation = services.store.read(conv, "conversation")
    assert conversation is not None
    assert conversation["lastMessagePreview"] == "important"
    mirrored = queues.messages(DATAVERSE_MIRROR_QUEUE)
    assert {m["id"] for m in mirrored} == {
        document_id(wamid)
    }  # queued, maybe twice: consumers are idempotent


@pytest.mark.parametrize(
    ("setting", "unreachable"),
    [
        ("COSMOS_ENDPOINT", "https://127.0.0.1:9/"),
        (
            "AzureWebJobsStorage",
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
            "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;",
        ),
    ],
    ids=["cosmos-down", "queue-down"],
)
@pytest.mark.mirror_on  # so that an inbound text needs the queue too
def test_an_unreachable_store_is_a_503_so_meta_retries(
    client: Client,
    services: Services,
    phone_number_id: str,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    unreachable: str,
) -> None:
    monkeypatch.setenv(setting, unreachable)
    services_module.reset()
    body, headers = signed(inbound(phone_number_id, WA, message("text", {"body": "hello"}, wa_id=WA)))
    response = client.post("/api/whatsapp/webhook", data=body, headers=headers)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "store_unavailable"
