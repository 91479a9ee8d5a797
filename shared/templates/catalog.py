"""A WhatsApp Business Account's templates, read from Meta (`GET /{waba-id}/message_templates`, every
page) and cached in Cosmos DB, so an agent opening the template picker or sending one costs a point read,
not a call to Meta.

The cache is a `templates` document in a partition of its own, `templates:<wabaId>` (no conversation's
partition: those are `<digits>:<customer>`). It is refreshed at most every REFRESH_AFTER (5 minutes),
and sooner once a `message_template_status_update` webhook (a template approved, paused, disabled...)
marks it stale. A refresh records when it *started*: a webhook arriving while Meta is being read leaves
the result stale, so the next read fetches again. When Meta cannot be read the cached templates are
served (and Meta is not asked again for RETRY_FAILED_AFTER); with nothing cached, CatalogUnavailable.

Every template Meta lists is kept, whatever its status, so a send can say a template is paused rather
than unknown. Templates past one document's size (Cosmos DB's limit is 2 MB) go into `part` documents
of the same partition, each tagged with the refresh that wrote it; a head naming parts of another
refresh (two refreshes crossing) counts as no cache.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from shared.conversations.documents import Document, parse_iso
from shared.conversations.ports import ConversationStore, Doc
from shared.templates.definitions import Template, read_template
from shared.whatsapp.graph_errors import GraphError

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(minutes=5)
RETRY_FAILED_AFTER = timedelta(minutes=1)
CATALOG_ID = "catalog"
PART_BYTES = 1_000_000  # of JSON per document, well inside Cosmos DB's 2 MB
CACHE_TTL_SECONDS = 30 * 24 * 3600  # an account no agent uses for a month is read afresh when one does
KEPT_FIELDS = ("id", "name", "language", "status", "category", "parameter_format", "components")


class TemplateSource(Protocol):
    def message_templates(self, waba_id: str) -> list[dict[str, Any]]:
        """Every template of the account as Meta describes it; raises GraphError."""
        ...


class CatalogUnavailable(Exception):
    """Meta could not be read and nothing is cached: 502 `meta_unavailable`."""


def partition_for(waba_id: str) -> str:
    return f"templates:{waba_id}"


def _moment(at: datetime) -> str:
    """Milliseconds: a webhook and a refresh in the same second must still be ordered."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CatalogDocument(Document):
    type: Literal["templates"] = "templates"
    id: str = CATALOG_ID
    conversation_id: str
    waba_id: str
    fetched_at: str  # when the refresh that wrote it started
    invalidated_at: str | None = None  # a status webhook said the templates changed
    refresh_failed_at: str | None = None
    generation: str
    templates: list[dict[str, Any]] = []  # inline when they fit; else in `parts` part documents
    parts: int = 0
    ttl: int = CACHE_TTL_SECONDS

    def fresh(self, now: datetime) -> bool:
        fetched = parse_iso(self.fetched_at)
        if self.invalidated_at is not None and parse_iso(self.invalidated_at) >= fetched:
            return False
        return now - fetched < REFRESH_AFTER

    def resting(self, now: datetime) -> bool:
        """Meta failed a moment ago: serve what is cached without asking again yet."""
        return (
            self.refresh_failed_at is not None
            and now - parse_iso(self.refresh_failed_at) < RETRY_FAILED_AFTER
        )


class CatalogPart(Document):
    type: Literal["templates-part"] = "templates-part"
    id: str
    conversation_id: str
    generation: str
    templates: list[dict[str, Any]]
    ttl: int = CACHE_TTL_SECONDS

    @staticmethod
    def id_for(position: int) -> str:
        return f"{CATALOG_ID}:part:{position}"


def invalidate(store: ConversationStore, waba_id: str, at: datetime) -> bool:
    """A `message_template_status_update`: the next read fetches afresh. Nothing cached, nothing to do."""

    def change(current: Doc | None) -> Doc | None:
        if current is None or current.get("type") != "templates":
            return None
        return {**current, "invalidatedAt": _moment(at)}

    stored = store.update(partition_for(waba_id), CATALOG_ID, change)
    return stored is not None


class TemplateCatalog:
    def __init__(self, store: ConversationStore, source: TemplateSource, clock: Callable[[], datetime]):
        self.store = store
        self.source = source
        self.clock = clock

    def templates(self, waba_id: str) -> list[Template]:
        """Every template of the account (any status), fresh within REFRESH_AFTER."""
        return [t for t in (read_template(raw) for raw in self._raw(waba_id)) if t is not None]

    def find(self, waba_id: str, name: str, language: str) -> Template | None:
        return next((t for t in self.templates(waba_id) if (t.name, t.language) == (name, language)), None)

    def _raw(self, waba_id: str) -> list[dict[str, Any]]:
        now = self.clock()
        head, cached = self._cached(waba_id)
        if head is not None and cached is not None and (head.fresh(now) or head.resting(now)):
            return cached
        try:
            return self._refresh(waba_id, now)
        except GraphError as error:
            extra = {"wabaId": waba_id, "metaErrorCode": error.code}
            if head is None or cached is None:
                log.error("Meta's templates could not be read and none are cached: %s", error, extra=extra)
                raise CatalogUnavailable(str(error)) from error
            log.warning("Meta's templates could not be read; serving the cached ones: %s", error, extra=extra)
            self.store.update(
                partition_for(waba_id),
                CATALOG_ID,
                lambda current: {**current, "refreshFailedAt": _moment(now)} if current else None,
            )
            return cached

    def _cached(self, waba_id: str) -> tuple[CatalogDocument | None, list[dict[str, Any]] | None]:
        partition = partition_for(waba_id)
        found = self.store.read(partition, CATALOG_ID)
        if found is None or found.get("type") != "templates":
            return None, None
        head = CatalogDocument.model_validate(found)
        if not head.parts:
            return head, head.templates
        templates: list[dict[str, Any]] = []
        for position in range(head.parts):
            part = self.store.read(partition, CatalogPart.id_for(position))
            if part is None or part.get("generation") != head.generation:
                return head, None  # a refresh crossed another: read Meta again
            templates += CatalogPart.model_validate(part).templates
        return head, templates

    def _refresh(self, waba_id: str, started: datetime) -> list[dict[str, Any]]:
        raw = self.source.message_templates(waba_id)
        kept = [{k: t[k] for k in KEPT_FIELDS if k in t} for t in raw if isinstance(t, dict)]
        partition = partition_for(waba_id)
        generation = uuid.uuid4().hex
        chunks = _chunks(kept)
        for position, chunk in enumerate(chunks if len(chunks) > 1 else []):
            part = CatalogPart(
                id=CatalogPart.id_for(position),
                conversation_id=partition,
                generation=generation,
                templates=chunk,
            )
            self.store.update(partition, part.id, _replace_with(part.to_document()))
        head = CatalogDocument(
            conversation_id=partition,
            waba_id=waba_id,
            fetched_at=_moment(started),
            generation=generation,
            templates=kept if len(chunks) <= 1 else [],
            parts=len(chunks) if len(chunks) > 1 else 0,
        )

        def change(current: Doc | None) -> Doc:
            # A webhook's mark survives the write: if it came after this refresh started, it still wins.
            invalidated = (current or {}).get("invalidatedAt")
            return head.model_copy(update={"invalidated_at": invalidated}).to_document()

        self.store.update(partition, CATALOG_ID, change)
        log.info("read %d templates from Meta", len(kept), extra={"wabaId": waba_id, "parts": head.parts})
        return kept


def _replace_with(document: Doc) -> Callable[[Doc | None], Doc]:
    return lambda _current: document


def _chunks(templates: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Consecutive runs of templates of at most PART_BYTES of JSON each (one template past that is
    dropped, and logged: no template Meta allows comes near it)."""
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for template in templates:
        length = len(json.dumps(template, ensure_ascii=False).encode())
        if length > PART_BYTES:
            log.warning("template %s is too large to cache; left out", str(template.get("name"))[:100])
            continue
        if size + length > PART_BYTES and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].append(template)
        size += length
    return chunks
