"""A customer's message still unread after a while tells the linked record's owner, in D365 (issue 15,
item 3): an in-app notification with the preview and a link to the record, once per unread burst."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.test import Client

from devhost.dataverse_standin import DataverseStandIn, DataverseUser, mirror_for
from shared.conversations.documents import conversation_id, document_id
from shared.conversations.queue_messages import NotifyRequest
from shared.dataverse.notifications import UnreadNotifier, notification_id
from shared.dataverse.queue_handler import handle_mirror_message, parse_request
from shared.services import Services
from shared.storage.names import DATAVERSE_MIRROR_QUEUE
from tests.conftest import Queues
from tests.test_dataverse_mirror import business_app_sends, customer_says, mirror_all

WA = "447700900123"
AGENT_OID = "5a0c7a4e-1b2c-4d3e-8f90-123456789abc"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.mirror_on


@pytest.fixture(autouse=True)
def notify_after_two_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the `services` fixture builds the app's services from the environment."""
    monkeypatch.setenv("DATAVERSE_NOTIFY_AFTER_SECONDS", "120")


@pytest.fixture
def dataverse(httpserver: HTTPServer) -> Iterator[DataverseStandIn]:
    stand_in = DataverseStandIn(httpserver)
    stand_in.provision()
    yield stand_in
    httpserver.clear()


@pytest.fixture
def owner(dataverse: DataverseStandIn) -> DataverseUser:
    user = dataverse.add_user(AGENT_OID)
    dataverse.add_contact(firstname="Ada", mobilephone="+447700900123", **dataverse.owned_by(user))
    return user


def notifications(dataverse: DataverseStandIn) -> list[dict[str, Any]]:
    return list(dataverse.rows["appnotifications"].values())


def customer_writes_and_is_mirrored(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    phone_number_id: str,
    *texts: str,
) -> NotifyRequest:
    """The customer writes; the mirror links the conversation (and learns the record's owner)."""
    wamids = customer_says(client, phone_number_id, *texts)
    mirror_all(mirror_for(dataverse, services.store), queues)
    conv = conversation_id(phone_number_id, WA)
    return NotifyRequest(conversation_id=conv, message_id=document_id(wamids[-1]), notify=True)


def agent_reads(services: Services, request: NotifyRequest, at: str = "2026-11-29T12:01:00Z") -> None:
    """What the panel's read receipt records (shared/conversations/agent_signals.py)."""
    services.store.update(
        request.conversation_id,
        "conversation",
        lambda d: {**(d or {}), "agentReadAt": at, "agentReadMessageId": request.message_id},
    )


def test_an_unread_message_tells_the_records_owner_with_its_preview_and_a_link(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    owner: DataverseUser,
    phone_number_id: str,
) -> None:
    request = customer_writes_and_is_mirrored(
        client, services, queues, dataverse, phone_number_id, "Where is my order?"
    )
    result = UnreadNotifier(services.store, dataverse.client())(request, NOW)
    assert (result.outcome, result.recipient) == ("notified", owner.systemuserid)
    [sent] = notifications(dataverse)
    assert sent["_ownerid_value"] == owner.systemuserid
    assert sent["title"] == "WhatsApp from Ada Lovelace"
    assert sent["body"] == "Where is my order?"
    assert (sent["icontype"], sent["toasttype"]) == (100_000_000, 200_000_000)  # info, timed
    [action] = json.loads(sent["data"])["actions"]
    contact = next(iter(dataverse.rows["contacts"]))
    assert action["data"]["url"] == f"?pagetype=entityrecord&etn=contact&id={contact}"


def test_one_notification_per_burst_until_an_agent_reads(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    owner: DataverseUser,
    phone_number_id: str,
) -> None:
    notifier = UnreadNotifier(services.store, dataverse.client())
    first = customer_writes_and_is_mirrored(client, services, queues, dataverse, phone_number_id, "one")
    assert notifier(first, NOW).outcome == "notified"
    second = customer_writes_and_is_mirrored(client, services, queues, dataverse, phone_number_id, "two")
    assert notifier(second, NOW).outcome == "already_notified"
    assert len(notifications(dataverse)) == 1

    agent_reads(services, second, at="2026-11-29T12:01:00Z")
    third = customer_writes_and_is_mirrored(client, services, queues, dataverse, phone_number_id, "three")
    assert notifier(third, datetime(2026, 11, 29, 12, 5, tzinfo=UTC)).outcome == "notified"
    assert len(notifications(dataverse)) == 2


def test_a_message_read_in_time_tells_nobody(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    owner: DataverseUser,
    phone_number_id: str,
) -> None:
    request = customer_writes_and_is_mirrored(client, services, queues, dataverse, phone_number_id, "hi")
    agent_reads(services, request)
    assert UnreadNotifier(services.store, dataverse.client())(request, NOW).outcome == "read"
    assert notifications(dataverse) == []


def test_a_team_owned_or_unlinked_conversation_has_nobody_to_notify(
    client: Client, services: Services, queues: Queues, dataverse: DataverseStandIn, phone_number_id: str
) -> None:
    notifier = UnreadNotifier(services.store, dataverse.client())
    unlinked = customer_writes_and_is_mirrored(client, services, queues, dataverse, phone_number_id, "hello")
    assert notifier(unlinked, NOW).outcome == "no_recipient"
    dataverse.add_lead(mobilephone="+447700900124", **dataverse.owned_by(team=dataverse.add_team()))
    customer_says(client, phone_number_id, "hello", wa="447700900124")
    mirror_all(mirror_for(dataverse, services.store), queues)
    team_owned = NotifyRequest(
        conversation_id=conversation_id(phone_number_id, "447700900124"), message_id="x", notify=True
    )
    assert notifier(team_owned, NOW).outcome == "no_recipient"  # "a team isn't supported"
    assert notifications(dataverse) == []


def test_a_link_without_a_known_owner_asks_dataverse_for_it_once(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    owner: DataverseUser,
    phone_number_id: str,
) -> None:
    request = customer_writes_and_is_mirrored(client, services, queues, dataverse, phone_number_id, "hi")
    conv = request.conversation_id
    services.store.update(
        conv, "conversation", lambda d: {**(d or {}), "regarding": {**(d or {})["regarding"], "owner": None}}
    )
    dataverse.seen.clear()
    assert UnreadNotifier(services.store, dataverse.client())(request, NOW).recipient == owner.systemuserid
    assert [(s.method, s.path.split("(")[0]) for s in dataverse.data_requests] == [
        ("GET", "contacts"),
        ("PATCH", "appnotifications"),
    ]


def test_a_retried_notification_is_written_once(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    owner: DataverseUser,
    phone_number_id: str,
) -> None:
    """The queue retries a request whose Cosmos write failed after Dataverse took the notification."""
    request = customer_writes_and_is_mirrored(client, services, queues, dataverse, phone_number_id, "hi")
    notifier = UnreadNotifier(services.store, dataverse.client())
    notifier(request, NOW)
    services.store.update(
        request.conversation_id, "conversation", lambda d: {**(d or {}), "notifiedAt": None}
    )
    assert notifier(request, NOW).outcome == "notified"
    assert list(dataverse.rows["appnotifications"]) == [
        str(notification_id(request.conversation_id, request.message_id))
    ]


def test_without_the_privilege_it_says_so_once_and_never_poisons(
    client: Client,
    services: Services,
    queues: Queues,
    dataverse: DataverseStandIn,
    owner: DataverseUser,
    phone_number_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dataverse.no_notifications = True
    request = customer_writes_and_is_mirrored(client, services, queues, dataverse, phone_number_id, "hi")
    notifier = UnreadNotifier(services.store, dataverse.client())
    with caplog.at_level(logging.ERROR):
        assert notifier(request, NOW).outcome == "not_allowed"
    assert "Create and Read on Notification (appnotification)" in caplog.text
    dataverse.seen.clear()
    assert notifier(request, NOW).outcome == "no_recipient"  # stopped asking until a restart
    assert dataverse.data_requests == []


def hidden_notifications(queues: Queues) -> int:
    """Messages on the queue that nobody can see yet (the count includes hidden ones)."""
    client = queues.service.get_queue_client(DATAVERSE_MIRROR_QUEUE)
    for visible in client.receive_messages(messages_per_page=32, visibility_timeout=30):
        client.delete_message(visible)  # the mirror requests, at once
    return int(client.get_queue_properties().approximate_message_count or 0)


def test_a_customers_message_queues_a_hidden_notification_an_agents_does_not(
    client: Client, services: Services, queues: Queues, phone_number_id: str
) -> None:
    customer_says(client, phone_number_id, "hello")
    assert hidden_notifications(queues) == 1
    business_app_sends(client, phone_number_id)
    assert hidden_notifications(queues) == 1


def test_the_queue_tells_a_notification_from_the_other_requests(
    services: Services, dataverse: DataverseStandIn
) -> None:
    body = NotifyRequest(conversation_id="1:2", message_id="m", notify=True).model_dump_json(by_alias=True)
    assert isinstance(parse_request(body.encode()), NotifyRequest)
    # Notifications off since it was queued: acknowledged without a word to Dataverse.
    result = handle_mirror_message(mirror_for(dataverse, services.store), body.encode(), 1, services.queue)
    assert getattr(result, "outcome", None) == "no_recipient"


def test_provisioning_turns_on_in_app_notifications_in_the_named_apps(dataverse: DataverseStandIn) -> None:
    from shared.dataverse.provision import main

    assert (
        main(
            ["--url", dataverse.url, "--enable-notifications-in", "msdynce_saleshub, contoso_service"],
            client=dataverse.client(),
        )
        == 0
    )
    assert dataverse.app_settings == {
        ("msdynce_saleshub", "AllowNotificationsEarlyAccess"): "true",
        ("contoso_service", "AllowNotificationsEarlyAccess"): "true",
    }


def test_an_app_name_that_is_not_a_unique_name_is_refused_before_anything_is_sent(
    dataverse: DataverseStandIn,
) -> None:
    from shared.dataverse.provision import main

    dataverse.seen.clear()
    with pytest.raises(SystemExit):
        main(["--url", dataverse.url, "--enable-notifications-in", "sales hub'"], client=dataverse.client())
    assert dataverse.seen == []
