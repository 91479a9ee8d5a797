"""An approved template from an agent: the only message Meta delivers outside the 24-hour window, so
no window is needed. Checked before anything leaves: the template is one of the number's account's
approved templates, the customer has not opted out of marketing if it is a marketing one, and every
parameter fits it (shared/templates/filling.py). The history keeps the text the customer reads."""

from __future__ import annotations

from collections.abc import Callable

from shared.conversations.commands import SendTemplateCommand
from shared.conversations.documents import ConversationDocument, TemplateRef, conversation_id
from shared.conversations.outbound_media import InvalidMedia, OutboundMedia, resolve_media
from shared.conversations.ports import Doc, MediaStore
from shared.conversations.send_pipeline import OutboundPipeline, Recipient, outbound_draft
from shared.templates.catalog import TemplateCatalog
from shared.templates.definitions import Template
from shared.templates.filling import Filled, TemplateParameterError, fill
from shared.whatsapp.graph_models import MediaBody, SendMessageRequest


class TemplatesNotConfigured(Exception):
    """No WhatsApp Business Account is configured for the business number, so it has no templates."""


class TemplateNotFound(Exception):
    """No approved template of that name and language that this app can send: 400 `template_not_found`."""


class MarketingOptOut(Exception):
    """A marketing template to a customer who stopped marketing messages: 409 `marketing_opt_out`."""


class SendTemplate:
    def __init__(
        self,
        pipeline: OutboundPipeline,
        catalog: TemplateCatalog,
        media: MediaStore,
        waba_for: Callable[[str], str | None],
    ):
        self.pipeline = pipeline
        self.catalog = catalog
        self.media = media
        self.waba_for = waba_for

    def __call__(
        self, phone_number_id: str, customer_id: str, command: SendTemplateCommand, sent_by: str
    ) -> tuple[Doc, bool]:
        """The stored message, and whether this call sent it (False: a replay of an earlier send)."""
        conv = conversation_id(phone_number_id, customer_id)
        template = self._template(phone_number_id, command)
        if template.category == "MARKETING" and self._opted_out(conv):
            raise MarketingOptOut(conv)
        filled = fill(template, command.template.parameters)
        media = self._header_media(filled)
        now = self.pipeline.clock()
        draft = outbound_draft(
            phone_number_id,
            customer_id,
            command,
            sent_by,
            now,
            kind="template",
            text=filled.rendered(),
            media=media.info if media else None,
            template=TemplateRef(name=template.name, language=template.language, category=template.category),
        )

        def request_for(recipient: Recipient) -> SendMessageRequest:
            sent: MediaBody | None = None
            if media is not None:
                source = {"id": recipient.upload(media)} if media.blob_name else {"link": media.info.url}
                document = (
                    filled.media_placeholder is not None and filled.media_placeholder.type == "document"
                )
                sent = MediaBody(**source, filename=media.info.filename if document else None)
            return SendMessageRequest(
                **recipient.address(),
                type="template",
                template=filled.body(sent),
                biz_opaque_callback_data=recipient.message_id,
            )

        return self.pipeline.send(draft, request_for, command.regarding)

    def _template(self, phone_number_id: str, command: SendTemplateCommand) -> Template:
        waba = self.waba_for(phone_number_id)
        if waba is None:
            raise TemplatesNotConfigured(phone_number_id)
        name, language = command.template.name, command.template.language
        template = self.catalog.find(waba, name, language)
        if template is None:
            raise TemplateNotFound(
                f"There is no template {name} ({language}) in this business number's WhatsApp Business "
                "Account."
            )
        if not template.approved:
            raise TemplateNotFound(
                f"The {template.label} is {template.status.lower() or 'not approved'}: only approved "
                "templates can be sent."
            )
        if template.unsupported is not None:
            raise TemplateNotFound(
                f"The {template.label} has {template.unsupported}, which this app cannot send."
            )
        return template

    def _opted_out(self, conv: str) -> bool:
        """The `user_preferences` webhook's latest word, kept on the conversation (preferences.py)."""
        found = self.pipeline.store.read(conv, "conversation")
        return found is not None and ConversationDocument.model_validate(found).marketing_opt_out is True

    def _header_media(self, filled: Filled) -> OutboundMedia | None:
        placeholder, given = filled.media_placeholder, filled.header_media
        if placeholder is None or given is None:
            return None
        try:
            return resolve_media(self.media, given.media_url, placeholder.type, given.filename)
        except InvalidMedia as error:
            needs = f"header needs {'an' if placeholder.type == 'image' else 'a'} {placeholder.type}"
            if error.found is None:  # not https, not an upload of ours, or gone
                raise TemplateParameterError(f"{filled.template.label}: {needs}: {error}") from error
            found = "not media" if error.found == "not media" else f"a {error.found}"
            raise TemplateParameterError(
                f"{filled.template.label}: {needs}, and the uploaded file is {found}"
            ) from error
