"""Integration fixtures: the real emulators (own ports, in memory), the app's own functions in-process."""

from __future__ import annotations

import base64
import json
import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from devhost.stack import TEST_PORTS, LocalStack
from shared import services as services_module
from shared.services import Services, get_services
from shared.storage.clients import queue_service
from shared.storage.names import ALL_QUEUES
from tests.payloads import APP_SECRET, VERIFY_TOKEN

TEST_SETTINGS = {
    "WHATSAPP_APP_SECRET": APP_SECRET,
    "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
    "WHATSAPP_ACCESS_TOKEN": "test-access-token",
    "WHATSAPP_PHONE_NUMBER_ID": "100200300400",
    "COSMOS_DATABASE": "whatsapp",
    "COSMOS_CONTAINER": "conversations",
    "MEDIA_CONTAINER": "media",
    "AUTH_DISABLED": "true",  # the auth tests switch it off and sign their own tokens
    # Mirror every change as it happens: the settling tests (test_mirror_timing.py) set their own.
    "DATAVERSE_MIRROR_SETTLE_SECONDS": "0",
    "DATAVERSE_NOTIFY_AFTER_SECONDS": "0",  # the notification tests (test_notifications.py) set their own
}


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    from devhost.provision import provision

    with LocalStack(TEST_PORTS, data_dir=None) as stack:
        os.environ.update(stack.environment)
        os.environ.update(TEST_SETTINGS)
        services_module.reset()
        provision(get_services().settings)
        yield stack


@pytest.fixture
def services(
    local_stack: LocalStack, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Services]:
    if request.node.get_closest_marker("mirror_on"):
        # Mirror requests are queued only where Dataverse is configured; nothing here calls it.
        monkeypatch.setenv("DATAVERSE_URL", "https://contoso.crm.dynamics.com")
    services_module.reset()
    built = get_services()
    yield built
    services_module.reset()


@pytest.fixture
def phone_number_id() -> str:
    """A business number of its own per test: its conversations are partitions no other test touches."""
    return str(random.randrange(10**14, 10**15))


@pytest.fixture(scope="session")
def app_functions() -> list[Any]:
    from devhost.host import functions_of
    from function_app import app

    return list(functions_of(app))


@pytest.fixture
def client(services: Services, app_functions: list[Any]) -> Client:
    """The same WSGI routing `make run` serves, called in-process."""
    from devhost.host import HttpFunctions

    return Client(HttpFunctions(app_functions))


class Queues:
    """Reads what the app put on its queues, decoded the way the queue trigger decodes it."""

    def __init__(self, services: Services):
        self.service = queue_service(services.settings)

    def clear(self) -> None:
        for name in ALL_QUEUES:
            self.service.get_queue_client(name).clear_messages()

    def messages(self, name: str) -> list[dict[str, Any]]:
        client = self.service.get_queue_client(name)
        found = []
        for item in client.receive_messages(messages_per_page=32, visibility_timeout=1):
            found.append(json.loads(base64.b64decode(item.content)))
        return found


@pytest.fixture
def queues(services: Services) -> Queues:
    found = Queues(services)
    found.clear()
    return found
