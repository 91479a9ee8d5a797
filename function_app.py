"""The Function App: one Blueprint per job, so each shows as its own function in the portal."""

import azure.functions as func

from functions import conversations, health, media, mirror, openapi, webhook

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (webhook.bp, conversations.bp, media.bp, mirror.bp, health.bp, openapi.bp):
    app.register_functions(blueprint)
