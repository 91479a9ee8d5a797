"""The app's settings: one class, read from the environment (Function App settings / local.settings.json)."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

GRAPH_BASE_URL = "https://graph.facebook.com"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Where Meta's media lookup sends downloads (WhatsApp Cloud API, "Download media": lookaside.fbsbx.com).
META_MEDIA_HOSTS = "lookaside.fbsbx.com"
# What App Service leaves in a setting whose Key Vault reference it could not resolve.
KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("
# A user delegation SAS cannot outlive its key (7 days at most); a day is plenty for a chat panel.
MAX_MEDIA_URL_MINUTES = 24 * 60


# Meta's ids (phone number ids, WhatsApp Business Account ids): ASCII digits, at most 20.
_META_ID = re.compile(r"[0-9]{1,20}")


def waba_map(configured: str) -> dict[str, str]:
    """`WHATSAPP_BUSINESS_ACCOUNT_IDS`, "<phoneNumberId>:<wabaId>,...", as a dict; raises ValueError
    naming the first entry that is not two ids of digits, or a number given twice."""
    found: dict[str, str] = {}
    for entry in (e.strip() for e in configured.split(",")):
        if not entry:
            continue
        number, _, waba = (part.strip() for part in entry.partition(":"))
        if not (_META_ID.fullmatch(number) and _META_ID.fullmatch(waba)):
            raise ValueError(
                f"WHATSAPP_BUSINESS_ACCOUNT_IDS: {entry[:60]!r} is not <phoneNumberId>:<wabaId> (digits)"
            )
        if found.get(number, waba) != waba:
            raise ValueError(f"WHATSAPP_BUSINESS_ACCOUNT_IDS names phone number {number} twice")
        found[number] = waba
    return found


def media_hosts(configured: str, graph_base_url: str) -> frozenset[str]:
    """The hosts in `configured` (comma-separated), plus the Graph host itself when it is this machine
    (the local sandbox serves downloads there)."""
    hosts = {h.strip().lower() for h in configured.split(",") if h.strip()}
    graph_host = (urlsplit(graph_base_url).hostname or "").lower()
    return frozenset(hosts | ({graph_host} & LOOPBACK_HOSTS))


class Settings(BaseSettings):
    """Every setting docs/settings.md names; names match the environment variables exactly."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", populate_by_name=True)

    WHATSAPP_VERIFY_TOKEN: SecretStr = SecretStr("")
    WHATSAPP_APP_SECRET: SecretStr = SecretStr("")
    WHATSAPP_ACCESS_TOKEN: SecretStr = SecretStr("")
    WHATSAPP_PHONE_NUMBER_ID: str = ""
    # The business numbers this deployment serves (comma-separated); empty = every number (local use).
    WHATSAPP_PHONE_NUMBER_IDS: str = ""
    # Hosts that may receive the access token when a customer's file is downloaded (comma-separated).
    WHATSAPP_MEDIA_HOSTS: str = META_MEDIA_HOSTS
    WHATSAPP_GRAPH_BASE_URL: str = GRAPH_BASE_URL
    # Pinned: the shape of status webhooks changes between Graph versions (v24 dropped `conversation`).
    WHATSAPP_API_VERSION: str = "v23.0"
    # The WhatsApp Business Account (WABA) whose message templates the business numbers send; a
    # deployment serving numbers of several WABAs names each number's in `..._IDS` ("<number>:<waba>,...").
    WHATSAPP_BUSINESS_ACCOUNT_ID: str = ""
    WHATSAPP_BUSINESS_ACCOUNT_IDS: str = ""

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
    # How long a read URL handed out for a blob stays valid: 1 to MAX_MEDIA_URL_MINUTES (capped).
    MEDIA_URL_MINUTES: int = 60

    DATAVERSE_URL: str = ""  # absent = mirror disabled
    DATAVERSE_TENANT_ID: str = ""
    DATAVERSE_CLIENT_ID: str = ""
    DATAVERSE_CLIENT_SECRET: SecretStr | None = None
    DATAVERSE_TABLE_PREFIX: str = "wa"  # the solution publisher's prefix: `<prefix>_whatsappmessage`
    DATAVERSE_CREATE_LEADS: bool = False  # a number matching no contact or lead creates a lead
    # How long an agent's message (and a customer's file) settles before its row is written, so the
    # statuses (the copy) that follow within seconds go in the same write; 0 = write every change.
    DATAVERSE_MIRROR_SETTLE_SECONDS: int = Field(default=30, ge=0, le=300)
    # A customer's message still unread this long tells the linked record's owner (a D365 in-app
    # notification); 0 = never.
    DATAVERSE_NOTIFY_AFTER_SECONDS: int = Field(default=300, ge=0, le=86_400)

    ALLOWED_ORIGINS: str = ""

    # Entra ID for the D365-facing routes: a control in the agent's browser cannot keep a function key.
    AUTH_TENANT_ID: str = ""
    AUTH_AUDIENCE: str = ""  # the API app's id and/or `api://...` id URI, comma-separated
    AUTH_REQUIRED_ROLE: str = ""  # an app role the agent must hold; empty = any user of the tenant
    AUTH_DISABLED: bool = False  # only the local host sets this by default
    AUTH_AUTHORITY: str = "https://login.microsoftonline.com"
    # How long an agent's access to (record, customer), as Dataverse decided it, is remembered.
    ACCESS_CACHE_SECONDS: int = Field(default=300, ge=0, le=3600)

    # Set by App Service on every Function App: their presence means "running in Azure".
    WEBSITE_SITE_NAME: str = ""
    WEBSITE_INSTANCE_ID: str = ""

    _unresolved: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("COSMOS_KEY", "DATAVERSE_CLIENT_SECRET", mode="before")
    @classmethod
    def _empty_is_absent(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("WHATSAPP_BUSINESS_ACCOUNT_ID", mode="after")
    @classmethod
    def _waba_id(cls, value: str) -> str:
        value = value.strip()
        if value and not _META_ID.fullmatch(value):
            raise ValueError("WHATSAPP_BUSINESS_ACCOUNT_ID must be the account's numeric id (digits only)")
        return value

    @field_validator("WHATSAPP_BUSINESS_ACCOUNT_IDS", mode="after")
    @classmethod
    def _waba_ids(cls, value: str) -> str:
        """Refused at start-up when malformed: a number silently mapped to no account (or the default
        one) would show the agents another account's templates."""
        waba_map(value)
        return value

    @field_validator("MEDIA_URL_MINUTES", mode="after")
    @classmethod
    def _capped_url_lifetime(cls, value: int) -> int:
        capped = min(max(value, 1), MAX_MEDIA_URL_MINUTES)
        if capped != value:
            log.warning(
                "MEDIA_URL_MINUTES=%d is outside 1..%d; using %d", value, MAX_MEDIA_URL_MINUTES, capped
            )
        return capped

    @model_validator(mode="after")
    def _unresolved_references_are_unset(self) -> Settings:
        """A Key Vault reference App Service could not resolve stays in the setting as its literal
        text, which names the vault: used as a key, anyone could sign with it. It counts as unset."""
        unresolved = []
        for name, value in list(self.__dict__.items()):
            if isinstance(value, SecretStr) and value.get_secret_value().strip().startswith(
                KEY_VAULT_REFERENCE
            ):
                unresolved.append(name)
                setattr(
                    self, name, None if name in ("COSMOS_KEY", "DATAVERSE_CLIENT_SECRET") else SecretStr("")
                )
        self._unresolved = tuple(unresolved)
        return self

    @property
    def unresolved_secrets(self) -> tuple[str, ...]:
        """The secret settings that hold an unresolved Key Vault reference (counted as unset)."""
        return self._unresolved

    @property
    def runs_in_azure(self) -> bool:
        return bool(self.WEBSITE_SITE_NAME.strip() or self.WEBSITE_INSTANCE_ID.strip())

    @property
    def record_checks_on(self) -> bool:
        """Dataverse decides which conversations an agent may see wherever it is configured and
        sign-in is on; elsewhere any agent with the app role sees every conversation."""
        return bool(self.DATAVERSE_URL.strip()) and not self.AUTH_DISABLED

    @property
    def phone_number_ids(self) -> frozenset[str]:
        """The business numbers agents may use; empty = any (local use only: start-up warns)."""
        return frozenset(n.strip() for n in self.WHATSAPP_PHONE_NUMBER_IDS.split(",") if n.strip())

    def waba_for(self, phone_number_id: str) -> str | None:
        """The WhatsApp Business Account whose templates `phone_number_id` sends, if configured."""
        return waba_map(self.WHATSAPP_BUSINESS_ACCOUNT_IDS).get(phone_number_id) or (
            self.WHATSAPP_BUSINESS_ACCOUNT_ID or None
        )

    @property
    def media_download_hosts(self) -> frozenset[str]:
        """Hosts a customer's file may be fetched from with the access token. The local sandbox's
        host is added only when the Graph base URL itself is on this machine."""
        return media_hosts(self.WHATSAPP_MEDIA_HOSTS, self.WHATSAPP_GRAPH_BASE_URL)

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
