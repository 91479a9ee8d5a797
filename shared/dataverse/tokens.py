"""Bearer tokens for Dataverse, behind a one-method interface so tests and local runs can pass a fake.

The adapter over `azure-identity` is the only Azure SDK code in this package, imported lazily. A
Dataverse on this machine (a loopback `DATAVERSE_URL`: the local stand-in `make run` starts) gets a
fixed local token instead, as the WhatsApp sandbox gets a fixed access token: no Entra ID locally.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from shared.config import LOOPBACK_HOSTS, Settings

REFRESH_MARGIN_SECONDS = 300.0  # renew five minutes before expiry: no request leaves with a dying token
# The bearer token sent to a Dataverse on a loopback address, and the only one the local stand-in
# (devhost/dataverse_standin.py) accepts. Public on purpose: it is never sent off this machine.
LOCAL_DATAVERSE_TOKEN = "local-dataverse-token"  # noqa: S105 - a fixed local value, not a secret


class TokenProvider(Protocol):
    def token(self, *, force_refresh: bool = False) -> str:
        """A bearer token for Dataverse; `force_refresh` after a 401 must not return the refused one."""
        ...


class AccessTokenLike(Protocol):
    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> int: ...


class CredentialLike(Protocol):
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessTokenLike: ...


def scope_for(dataverse_url: str) -> str:
    return dataverse_url.rstrip("/") + "/.default"


class CredentialTokenProvider:
    """Caches the credential's token until near expiry. A forced refresh builds a new credential:
    azure-identity credentials cache tokens themselves and would hand back the one just refused."""

    def __init__(
        self,
        credential_factory: Callable[[], CredentialLike],
        scope: str,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
    ):
        self._factory = credential_factory
        self.scope = scope
        self._clock = clock
        self._margin = refresh_margin
        self._credential: CredentialLike | None = None
        self._token: AccessTokenLike | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the token
        return f"CredentialTokenProvider({self.scope})"

    def token(self, *, force_refresh: bool = False) -> str:
        with self._lock:
            if force_refresh or self._credential is None:
                self._credential = self._factory()
                self._token = None
            cached = self._token
            if cached is None or cached.expires_on - self._margin <= self._clock():
                cached = self._token = self._credential.get_token(self.scope)
            return cached.token


class LocalTokenProvider:
    """The fixed local token, for the local stand-in; a forced refresh gives the same one (the
    stand-in never refuses it, so a 401 from it is the stand-in saying the token is wrong)."""

    def __repr__(self) -> str:
        return "LocalTokenProvider()"

    def token(self, *, force_refresh: bool = False) -> str:
        return LOCAL_DATAVERSE_TOKEN


def is_loopback_url(url: str) -> bool:
    """Whether `url` names this machine (`localhost`, `127.0.0.1`, `::1`; http or https), read both as
    the standard library reads it and as urllib3 (which `requests` connects with) does: a URL the two
    read differently is not loopback (`http://evil.example\\@127.0.0.1` is 127.0.0.1 to `urlsplit`,
    but `requests` connects to evil.example). `127.0.0.1.evil.example` and `127.0.0.1@evil.example`
    are other hosts."""
    try:
        ours = urlsplit(url.strip()).hostname
        theirs = parse_url(url.strip()).host
    except (ValueError, LocationParseError):
        return False
    return ours in LOOPBACK_HOSTS and (theirs or "").removeprefix("[").removesuffix("]") in LOOPBACK_HOSTS


def token_provider_for(settings: Settings) -> CredentialTokenProvider | LocalTokenProvider:
    """The fixed local token when `DATAVERSE_URL` is a loopback address (the local stand-in), never
    for any other host. Otherwise a client secret when one is set (app registration), else the
    Function App's managed identity (a user-assigned one when `DATAVERSE_CLIENT_ID` names it);
    locally `az login` works too."""
    if is_loopback_url(settings.DATAVERSE_URL):
        return LocalTokenProvider()
    secret = settings.DATAVERSE_CLIENT_SECRET

    def credential() -> CredentialLike:
        from azure.core.pipeline.transport import RequestsTransport
        from azure.identity import ClientSecretCredential, DefaultAzureCredential

        # Token requests read no proxy settings from the environment, as every other client of the app.
        transport = RequestsTransport(use_env_settings=False)
        if secret is not None:
            if not (settings.DATAVERSE_TENANT_ID and settings.DATAVERSE_CLIENT_ID):
                raise ValueError("DATAVERSE_CLIENT_SECRET needs DATAVERSE_TENANT_ID and DATAVERSE_CLIENT_ID")
            found: CredentialLike = ClientSecretCredential(
                settings.DATAVERSE_TENANT_ID,
                settings.DATAVERSE_CLIENT_ID,
                secret.get_secret_value(),
                transport=transport,
            )
            return found
        return DefaultAzureCredential(
            managed_identity_client_id=settings.DATAVERSE_CLIENT_ID or None, transport=transport
        )

    return CredentialTokenProvider(credential, scope_for(settings.DATAVERSE_URL))
