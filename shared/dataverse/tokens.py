"""Bearer tokens for Dataverse, behind a one-method interface so tests and local runs can pass a fake.

The adapter over `azure-identity` is the only Azure SDK code in this package, imported lazily.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from shared.config import Settings

REFRESH_MARGIN_SECONDS = 300.0  # renew five minutes before expiry: no request leaves with a dying token


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


def token_provider_for(settings: Settings) -> CredentialTokenProvider:
    """A client secret when one is set (app registration), else the Function App's managed identity
    (a user-assigned one when `DATAVERSE_CLIENT_ID` names it); locally `az login` works too."""
    secret = settings.DATAVERSE_CLIENT_SECRET

    def credential() -> CredentialLike:
        from azure.identity import ClientSecretCredential, DefaultAzureCredential

        if secret is not None:
            if not (settings.DATAVERSE_TENANT_ID and settings.DATAVERSE_CLIENT_ID):
                raise ValueError("DATAVERSE_CLIENT_SECRET needs DATAVERSE_TENANT_ID and DATAVERSE_CLIENT_ID")
            found: CredentialLike = ClientSecretCredential(
                settings.DATAVERSE_TENANT_ID, settings.DATAVERSE_CLIENT_ID, secret.get_secret_value()
            )
            return found
        return DefaultAzureCredential(managed_identity_client_id=settings.DATAVERSE_CLIENT_ID or None)

    return CredentialTokenProvider(credential, scope_for(settings.DATAVERSE_URL))
