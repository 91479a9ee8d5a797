"""GET /templates?phoneNumberId=: the approved templates an agent can send from a business number (its
WhatsApp Business Account's, shared/templates/catalog.py), with what each needs filled in."""

from __future__ import annotations

from collections.abc import Mapping

from shared.api.guard import business_number, guarded, record_request
from shared.api.responses import ApiResponse, error_response, json_response
from shared.api.views import TemplateList, TemplateParameterView, TemplateView
from shared.auth.entra import Principal
from shared.services import Services
from shared.templates.catalog import CatalogUnavailable, TemplateCatalog
from shared.templates.definitions import Template


def view(template: Template) -> TemplateView:
    return TemplateView.model_validate(
        {
            "name": template.name,
            "language": template.language,
            "category": template.category,
            "status": template.status,
            "parameterFormat": template.parameter_format,
            "components": template.components,
            "parameters": [
                TemplateParameterView(
                    component=p.component,
                    name=p.name,
                    index=p.index,
                    button_index=p.button_index,
                    type=p.type,
                    example=p.example,
                )
                for p in template.placeholders
            ],
            "preview": template.preview,
        }
    )


def list_templates(params: Mapping[str, str], authorization: str | None, services: Services) -> ApiResponse:
    def answer(agent: Principal) -> ApiResponse:
        number = business_number(params, services.settings)
        record_request(agent, params, services)
        waba = services.settings.waba_for(number)
        if waba is None:
            return error_response(
                503,
                "not_configured",
                f"No WhatsApp Business Account is configured for the business number {number}: an "
                "administrator must set WHATSAPP_BUSINESS_ACCOUNT_ID (or WHATSAPP_BUSINESS_ACCOUNT_IDS).",
            )
        try:
            templates = TemplateCatalog(services.store, services.sender, services.clock).templates(waba)
        except CatalogUnavailable:
            return error_response(
                502, "meta_unavailable", "WhatsApp's list of templates could not be read; try again shortly."
            )
        listed = sorted((t for t in templates if t.listed), key=lambda t: (t.name, t.language))
        return json_response(
            200, TemplateList(templates=[view(t) for t in listed]).model_dump(by_alias=True, mode="json")
        )

    return guarded(authorization, services, answer)
