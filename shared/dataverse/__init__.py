"""The Dataverse mirror: every WhatsApp message as an activity on the contact's or lead's Timeline.

Kept light on purpose: the app asks `mirror_enabled` at start-up, and nothing heavier than the
settings is imported until a message is actually mirrored.
"""

from __future__ import annotations

import logging
import threading

from shared.config import Settings

log = logging.getLogger(__name__)
_announced = threading.Event()


def mirror_enabled(settings: Settings) -> bool:
    """The mirror runs only where `DATAVERSE_URL` is set; elsewhere its queue messages are acked unread."""
    return bool(settings.DATAVERSE_URL.strip())


def announce_mirror_state(settings: Settings) -> bool:
    """Says once per process whether the mirror is on (operators look for this line after a deploy).

    Returns `mirror_enabled(settings)`, so a composition root can log and decide in one call.
    """
    enabled = mirror_enabled(settings)
    if not _announced.is_set():
        _announced.set()
        if enabled:
            log.info(
                "Dataverse mirror is on: messages go to %s as %s_whatsappmessage activities",
                settings.DATAVERSE_URL,
                settings.DATAVERSE_TABLE_PREFIX,
            )
        else:
            log.info("Dataverse mirror is off: DATAVERSE_URL is not set; mirror requests are acked unread")
    return enabled
