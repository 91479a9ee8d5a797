"""What an operator must know at start-up about the app's security posture: said once per process."""

from __future__ import annotations

import logging
import threading

from shared.config import Settings

log = logging.getLogger(__name__)
_announced = threading.Event()


def security_warnings(settings: Settings) -> list[tuple[int, str]]:
    """(level, line) for every setting that leaves the app closed or open wider than it should be."""
    found: list[tuple[int, str]] = []
    if settings.unresolved_secrets:
        found.append(
            (
                logging.ERROR,
                f"{', '.join(settings.unresolved_secrets)} hold(s) a Key Vault reference App Service could "
                "not resolve: treated as unset (the webhook and agent routes answer 503). Check the "
                "secret exists and the app's identity holds Key Vault Secrets User.",
            )
        )
    if settings.AUTH_DISABLED and settings.runs_in_azure:
        found.append(
            (
                logging.ERROR,
                "AUTH_DISABLED=true is refused in Azure: agent routes answer 503 until it is removed.",
            )
        )
    if not settings.phone_number_ids:
        found.append(
            (
                logging.WARNING,
                "WHATSAPP_PHONE_NUMBER_IDS is not set: agents may use any business number (local use only).",
            )
        )
    if not settings.record_checks_on:
        found.append(
            (
                logging.WARNING,
                "record-level checks are off (no DATAVERSE_URL, or AUTH_DISABLED): any agent with the "
                "app role can read every conversation.",
            )
        )
    return found


def announce_security_state(settings: Settings) -> None:
    if _announced.is_set():
        return
    _announced.set()
    for level, line in security_warnings(settings):
        log.log(level, line)
