"""`python -m devhost meta-subscribe --waba <id> --callback https://<app>.azurewebsites.net/api/whatsapp/webhook`:
Meta's side of the deployment, scripted.

Meta's "Webhook overrides" page (https://developers.facebook.com/documentation/business-messaging/whatsapp/
webhooks/override/): the app must be subscribed to the WABA's webhooks (`POST /{WABA-ID}/subscribed_apps`)
before it sets the WABA's alternate callback, the same call with `override_callback_uri` and
`verify_token`, which Meta verifies at once with the GET handshake: the app must be deployed and
answering. `GET /{WABA-ID}/subscribed_apps` then shows what Meta has. The access token comes from
WHATSAPP_ACCESS_TOKEN only and, like the verify token, is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.config import LOOPBACK_HOSTS
from shared.whatsapp.graph_errors import GraphErrorBody, GraphErrorEnvelope

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_VERSION = "v23.0"  # the app's pinned WHATSAPP_API_VERSION
TIMEOUT_SECONDS = 30.0  # Meta's POST waits for its own GET handshake to our app
# "Alternate callback URL where messages webhooks should be sent. Maximum 200 characters." (the page above)
MAX_CALLBACK_CHARS = 200
# What an operator can do about Meta's commonest refusals here.
HINTS = {
    2200: "Meta's GET handshake to the callback failed: is the app deployed and answering, and is the "
    "verify token the app's WHATSAPP_VERIFY_TOKEN? `python -m devhost smoke --url <app>` checks both.",
    190: "the access token was refused: set WHATSAPP_ACCESS_TOKEN to a valid system-user token.",
    100: "check the WABA id and the callback URL.",
}


class MetaRefused(Exception):
    """Meta answered with its error object (or something that is not an answer at all)."""

    def __init__(self, step: str, http_status: int, error: GraphErrorBody):
        self.step = step
        self.http_status = http_status
        self.error = error
        super().__init__(str(self))

    def __str__(self) -> str:
        e = self.error
        facts = [f"HTTP {self.http_status}"]
        facts += [f"code {e.code}"] if e.code is not None else []
        facts += [f"subcode {e.error_subcode}"] if e.error_subcode is not None else []
        facts += [f"type {e.type}"] if e.type else []
        facts += [f"fbtrace_id {e.fbtrace_id}"] if e.fbtrace_id else []
        details = f" ({e.error_data.details})" if e.error_data and e.error_data.details else ""
        return f"Meta refused {self.step}: {e.message}{details} [{', '.join(facts)}]"


class Unreachable(Exception):
    """The Graph API did not answer."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class AppData(_Model):
    id: str = ""
    name: str = ""
    link: str | None = None


class SubscribedApp(_Model):
    """One item of GET /{WABA-ID}/subscribed_apps (Meta's example on the page above)."""

    whatsapp_business_api_data: AppData = Field(default_factory=AppData)
    override_callback_uri: str | None = None


class SubscribedApps(_Model):
    data: list[SubscribedApp]


@dataclass
class GraphApi:
    """Just the two calls on `/{version}/{WABA-ID}/subscribed_apps`."""

    base_url: str
    version: str
    access_token: str = field(repr=False)
    timeout: float = TIMEOUT_SECONDS
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def url(self, waba_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/{self.version}/{waba_id}/subscribed_apps"

    def subscribe(self, waba_id: str, body: dict[str, str], step: str) -> None:
        """POST; Meta answers `{"success": true}`."""
        answer = self._call("POST", waba_id, step, json=body)
        if not (isinstance(answer, dict) and answer.get("success") is True):
            raise MetaRefused(step, 200, GraphErrorBody(message=f"no success in Meta's answer: {answer!r}"))

    def subscribed_apps(self, waba_id: str) -> list[SubscribedApp]:
        step = "listing the subscribed apps"
        answer = self._call("GET", waba_id, step)
        try:
            return SubscribedApps.model_validate(answer).data
        except ValidationError:
            raise MetaRefused(step, 200, GraphErrorBody(message=f"unexpected answer: {answer!r}")) from None

    def _call(self, method: str, waba_id: str, step: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.access_token}"}
        try:
            response = self.session.request(
                method, self.url(waba_id), headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.Timeout:
            raise Unreachable(f"{step}: no answer from {self.base_url} within {self.timeout:g} s") from None
        except requests.ConnectionError:
            raise Unreachable(f"{step}: cannot connect to {self.base_url}") from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.ok and payload is not None:
            return payload
        try:
            error = GraphErrorEnvelope.model_validate(payload).error
        except ValidationError:
            text = " ".join(response.text.split())[:200]
            error = GraphErrorBody(message=f"not Meta's error object: {text!r}")
        raise MetaRefused(step, response.status_code, error)


def callback_refusal(url: str) -> str | None:
    """Meta calls only https callbacks (with a valid certificate); plain http is for this machine, where
    the WhatsApp sandbox plays Meta. None when the URL will do."""
    parts = urlsplit(url)
    if len(url) > MAX_CALLBACK_CHARS:
        return f"--callback is longer than Meta's {MAX_CALLBACK_CHARS} characters"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    return f"--callback must be an https URL (or http on this machine, for the sandbox), not {url!r}"


def subscribe(api: GraphApi, waba_id: str, callback: str, verify_token: str) -> list[SubscribedApp]:
    """Subscribes the app, sets the WABA's callback (Meta verifies it first) and returns Meta's listing."""
    api.subscribe(waba_id, {}, "subscribing the app to the WABA's webhooks")
    override = {"override_callback_uri": callback, "verify_token": verify_token}
    api.subscribe(waba_id, override, "the override callback URL")
    return api.subscribed_apps(waba_id)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--waba", required=True, help="the WhatsApp Business Account id (the sandbox's: 102290129340398)"
    )
    parser.add_argument(
        "--callback",
        required=True,
        help="the app's webhook, https://<app>.azurewebsites.net/api/whatsapp/webhook",
    )
    parser.add_argument(
        "--verify-token",
        help="the app's WHATSAPP_VERIFY_TOKEN (default: that environment variable); never printed",
    )
    parser.add_argument("--graph-url", default=DEFAULT_GRAPH_URL, help=f"default {DEFAULT_GRAPH_URL}")
    parser.add_argument(
        "--version", default=DEFAULT_VERSION, help=f"Graph API version, default {DEFAULT_VERSION}"
    )
    parser.add_argument(
        "--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds per request (default 30)"
    )


def usage_problem(args: argparse.Namespace, access_token: str, verify_token: str) -> str | None:
    """Why the command cannot start, before anything is sent to Meta."""
    if not args.waba.isdigit():
        return "--waba must be the WABA's numeric id"
    if refusal := callback_refusal(args.callback):
        return refusal
    if not access_token:
        return "set WHATSAPP_ACCESS_TOKEN (a system-user token with whatsapp_business_management)"
    if not verify_token:
        return "pass --verify-token or set WHATSAPP_VERIFY_TOKEN"
    return None


def run(args: argparse.Namespace) -> int:
    """0 when Meta lists the callback for the WABA, 1 when Meta refused or lists another, 2 for usage."""
    access_token = os.environ.get("WHATSAPP_ACCESS_TOKEN", "")
    verify_token = args.verify_token or os.environ.get("WHATSAPP_VERIFY_TOKEN", "")
    if problem := usage_problem(args, access_token, verify_token):
        print(problem, file=sys.stderr)
        return 2
    api = GraphApi(args.graph_url, args.version, access_token, args.timeout)
    print(f"POST {api.url(args.waba)}: override_callback_uri {args.callback}")
    try:
        apps = subscribe(api, args.waba, args.callback, verify_token)
    except MetaRefused as refusal:
        print(str(refusal), file=sys.stderr)
        if hint := HINTS.get(refusal.error.code or -1):
            print(hint, file=sys.stderr)
        return 1
    except Unreachable as error:
        print(str(error), file=sys.stderr)
        return 1
    print(f"Meta verified the callback; WABA {args.waba} now has {len(apps)} subscribed app(s):")
    for app in apps:
        data = app.whatsapp_business_api_data
        where = app.override_callback_uri or "the app's own callback URL (no override)"
        print(f"  {data.name or '(no name)'} (app id {data.id}): {where}")
    if not any(app.override_callback_uri == args.callback for app in apps):
        print(f"Meta does not list {args.callback} as an override callback", file=sys.stderr)
        return 1
    return 0
