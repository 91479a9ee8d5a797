"""The app's settings: one class, read from the environment (Function App settings / local.settings.json)."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GRAPH_BASE_URL = "https://graph.facebook.com"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Settings(BaseSettings):
    """Every setting DESIGN.md names; names match the environment variables exactly."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", populate_by_name=True)

    WHATSAPP_VERIFY_TOKEN: SecretStr = SecretStr("")
    WHATSAPP_APP_SECRET: SecretStr = SecretStr("")
    WHATSAPP_ACCESS_TOKEN: SecretStr = SecretStr("")
    WHATSAPP_PHONE_NUMBER_ID: str = ""
    WHATSAPP_GRAPH_BASE_URL: str = GRAPH_BASE_URL
    # Pinned: the shape of status webhooks changes between Graph versions (v24 dropped `conversation`).
    WHATSAPP_API_VERSION: str = "v23.0"

    COSMOS_ENDPOINT: str = ""
    COSMOS_KEY: SecretStr | None = None  # absent = managed identity
    COSMOS_DATABASE: str = "whatsapp"
    COSMOS_CONTAINER: str = "conversations"

    AZURE_WEBJOBS_STORAGE: str = Field(
        default="", validation_alias=AliasChoices("AzureWebJobsStorage", "AZURE_WEBJOBS_STORAGE")
    )
    # Identity-based storage connection (no shared key), as the Functions host reads it.
    AZURE_WEBJOBS_STORAGE_ACCOUNT_NAME: str = Field(
        default="",
        validation_alias=AliasChoices(
            "AzureWebJobsStorage__accountName", "AZURE_WEBJOBS_STORAGE_ACCOUNT_NAME"
        ),
    )
    MEDIA_CONTAINER: str = "media"
    MEDIA_URL_MINUTES: int = 60  # how long a read URL handed out for a blob stays valid

    DATAVERSE_URL: str = ""  # absent = mirror disabled
    DATAVERSE_TENANT_ID: str = ""
    DATAVERSE_CLIENT_ID: str = ""
    DATAVERSE_CLIENT_SECRET: SecretStr | None = None
    DATAVERSE_TABLE_PREFIX: str = "wa"  # the solution publisher's prefix: `<prefix>_whatsappmessage`
    DATAVERSE_CREATE_LEADS: bool = False  # a number matching no contact or lead creates a lead

    ALLOWED_ORIGINS: str = ""

    # Entra ID for the D365-facing routes: a control in the agent's browser cannot keep a function key.
    AUTH_TENANT_ID: str = ""
    AUTH_AUDIENCE: str = ""  # the API app's id and/or `api://...` id URI, comma-separated
    AUTH_REQUIRED_ROLE: str = ""  # an app role the agent must hold; empty = any user of the tenant
    AUTH_DISABLED: bool = False  # only the local host sets this by default
    AUTH_AUTHORITY: str = "https://login.microsoftonline.com"

    @field_validator("COSMOS_KEY", "DATAVERSE_CLIENT_SECRET", mode="before")
    @classmethod
    def _empty_is_absent(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def cosmos_is_local_emulator(self) -> bool:
        """The local emulator serves a self-signed certificate; only loopback endpoints skip TLS checks."""
        return (urlsplit(self.COSMOS_ENDPOINT).hostname or "") in LOOPBACK_HOSTS

    @property
    def allowed_origins(self) -> list[str]:
        return [o.strip() for o in self.ALLOWED_ORIGINS.split(",") if o.strip()]

    @property
    def auth_audiences(self) -> list[str]:
        return [a.strip() for a in self.AUTH_AUDIENCE.split(",") if a.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
