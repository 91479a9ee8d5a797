"""`python -m devhost smoke --url https://<app>.azurewebsites.net`: is a deployment wired as Meta and D365
need it?

Probes that any deployment answers the same way whatever it stores, so they are safe against
production: nothing is written (the webhook POSTs are refused before their body is read, the agent route
is only read, and without a token). One line per check, a summary, exit 1 on any failure. The verify
token goes only into the handshake's query string: it is never printed, and failures are described from
the answer, never from the exception text (which would carry the URL, token included).

The agent routes must refuse a call without a token. The local host runs with AUTH_DISABLED=true, where
they answer 200: that fails the check unless `--allow-open-agent-routes` says this is a local run, and
the flag is refused for anything but a loopback URL, so a deployment cannot pass with open routes.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from shared.config import LOOPBACK_HOSTS
from shared.log_redaction import redact
from shared.whatsapp.signature import SIGNATURE_HEADER

TIMEOUT_SECONDS = 10.0
DEFAULT_REFUSED_ORIGIN = "https://evil.example"
WEBHOOK = "/api/whatsapp/webhook"
# A well-formed number (Ofcom's drama range) the agent route can parse; the probes only read it.
PROBE_CUSTOMER = "447700900123"
AGENT_READ = f"/api/conversations/{PROBE_CUSTOMER}/session"
AGENT_SEND = f"/api/conversations/{PROBE_CUSTOMER}/messages"
# What the chat panel sends across origins: its POST carries the agent's token and a JSON body.
PANEL_HEADERS = "authorization,content-type"
# A WhatsApp webhook with nothing in it: the app must refuse it for its signature alone.
EMPTY_WEBHOOK = b'{"object":"whatsapp_business_account","entry":[]}'


class Unreachable(Exception):
    """Nothing answers at the URL (refused, unknown host, TLS): the other checks cannot say more."""


class NoAnswer(Exception):
    """The app took longer than the timeout to answer this one request."""


@dataclass(frozen=True)
class Result:
    """One check's verdict and why, in words an operator can act on (never holding a secret)."""

    ok: bool
    detail: str


@dataclass(frozen=True)
class Target:
    """The deployment under test and what the checks need to know about it."""

    url: str  # scheme://host[:port], without /api
    verify_token: str
    origin: str
    refused_origin: str = DEFAULT_REFUSED_ORIGIN
    allow_open_agent_routes: bool = False
    timeout: float = TIMEOUT_SECONDS
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """No redirects: an http URL that App Service moves to https should say so, not be followed."""
        try:
            return self.session.request(
                method, self.url + path, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.Timeout:
            raise NoAnswer(f"no answer within {self.timeout:g} s") from None
        except requests.ConnectionError as error:
            raise Unreachable(f"cannot connect to {urlsplit(self.url).netloc}: {_reason(error)}") from None


def _reason(error: BaseException) -> str:
    """The OS's or TLS's own words from a requests error, without the URL its message carries."""
    text = str(error)
    for pattern in (r"\[SSL: [A-Z_]+\] ([^'\"()]+)", r"\[Errno -?\d+\] ([^'\"()]+)"):
        if match := re.search(pattern, text):
            return match.group(1).strip()
    return "TLS failed" if isinstance(error, requests.exceptions.SSLError) else "connection failed"


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _answer(response: requests.Response) -> str:
    """`HTTP 503 store_unavailable: <the app's message>`, or the start of a body that is not ours."""
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"HTTP {response.status_code} {error.get('code')}: {error.get('message')}"
    if response.is_redirect:
        return f"HTTP {response.status_code} redirect to {response.headers.get('Location')}"
    text = " ".join(response.text.split())[:120]
    return f"HTTP {response.status_code}" + (f" {text!r}" if text else "")


# Checks -------------------------------------------------------------------------------------------


def check_health(target: Target) -> Result:
    """`/api/health` answers 200 with status ok: the app runs and reaches Cosmos, queues and blobs."""
    response = target.request("GET", "/api/health")
    body = _json(response)
    backends = body.get("backends") if isinstance(body, dict) else None
    shown = ", ".join(f"{k} {v}" for k, v in backends.items()) if isinstance(backends, dict) else ""
    if response.status_code == 200 and isinstance(body, dict) and body.get("status") == "ok":
        return Result(True, f"200, status ok ({shown})" if shown else "200, status ok")
    if isinstance(body, dict) and "status" in body:
        return Result(
            False, f"HTTP {response.status_code}, status {body['status']}" + (f" ({shown})" if shown else "")
        )
    return Result(False, _answer(response))


def check_handshake(target: Target) -> Result:
    """Meta's GET handshake echoes a random challenge for our verify token, as Meta needs to subscribe."""
    if not target.verify_token:
        return Result(False, "no verify token to try: pass --verify-token or set WHATSAPP_VERIFY_TOKEN")
    challenge = str(secrets.randbelow(9 * 10**9) + 10**9)  # Meta sends an int to pass back
    params = {"hub.mode": "subscribe", "hub.verify_token": target.verify_token, "hub.challenge": challenge}
    response = target.request("GET", WEBHOOK, params=params)
    if response.status_code == 200 and response.text == challenge:
        return Result(True, "200, echoed the challenge for the verify token")
    if response.status_code == 403:
        return Result(False, "403: the app refused the verify token (not its WHATSAPP_VERIFY_TOKEN?)")
    if response.status_code == 200:
        return Result(False, "200 but the body is not the challenge: Meta would not subscribe")
    return Result(False, _answer(response))


def check_handshake_refusal(target: Target) -> Result:
    """A wrong verify token is refused: else anyone could point their Meta app at ours."""
    wrong = "smoke-" + secrets.token_urlsafe(16)
    challenge = str(secrets.randbelow(9 * 10**9) + 10**9)
    params = {"hub.mode": "subscribe", "hub.verify_token": wrong, "hub.challenge": challenge}
    response = target.request("GET", WEBHOOK, params=params)
    if response.status_code == 403:
        return Result(True, "403 for a wrong verify token")
    if challenge in response.text:
        return Result(False, f"HTTP {response.status_code} echoed the challenge for a wrong verify token")
    return Result(False, f"{_answer(response)}; expected 403")


def check_webhook_signature(target: Target) -> Result:
    """Webhook POSTs without Meta's signature, or with a wrong one, are 401 (so nothing is stored)."""
    headers = {"Content-Type": "application/json"}
    unsigned = target.request("POST", WEBHOOK, data=EMPTY_WEBHOOK, headers=headers)
    forged = "sha256=" + hmac.new(secrets.token_bytes(32), EMPTY_WEBHOOK, hashlib.sha256).hexdigest()
    wrong = target.request("POST", WEBHOOK, data=EMPTY_WEBHOOK, headers={**headers, SIGNATURE_HEADER: forged})
    if unsigned.status_code == 401 and wrong.status_code == 401:
        return Result(True, "401 unsigned, 401 with a wrong signature")
    return Result(False, f"unsigned: {_answer(unsigned)}; wrong signature: {_answer(wrong)}; expected 401")


def check_agent_auth(target: Target) -> Result:
    """The D365-facing routes refuse a call without a token, or with one that is not a token."""
    anonymous = target.request("GET", AGENT_READ)
    if anonymous.status_code == 200:
        if target.allow_open_agent_routes:
            return Result(
                True, "open: 200 without a token (AUTH_DISABLED, allowed by --allow-open-agent-routes)"
            )
        return Result(
            False,
            "agent routes are open: 200 without a token (AUTH_DISABLED=true?); "
            "a local run says --allow-open-agent-routes",
        )
    bogus = target.request("GET", AGENT_READ, headers={"Authorization": "Bearer smoke-test-not-a-token"})
    if anonymous.status_code == 401 and bogus.status_code == 401:
        return Result(True, "401 without a token, 401 with a bad token")
    return Result(False, f"no token: {_answer(anonymous)}; bad token: {_answer(bogus)}; expected 401")


def _preflight(target: Target, origin: str) -> requests.Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": PANEL_HEADERS,
    }
    return target.request("OPTIONS", AGENT_SEND, headers=headers)


def check_cors_allowed(target: Target) -> Result:
    """The D365 org's origin passes the browser's preflight for the panel's send (token and JSON)."""
    if not target.origin:
        return Result(False, "no allowed origin to try: pass --origin or set ALLOWED_ORIGINS")
    response = _preflight(target, target.origin)
    allow_origin = response.headers.get("Access-Control-Allow-Origin")
    allow_headers = response.headers.get("Access-Control-Allow-Headers", "").lower()
    if allow_origin is None:
        return Result(
            False,
            f"HTTP {response.status_code} without Access-Control-Allow-Origin: is {target.origin} "
            "in the app's CORS allowed origins?",
        )
    if allow_origin != target.origin:
        return Result(False, f"Access-Control-Allow-Origin is {allow_origin!r}, not {target.origin}")
    if not 200 <= response.status_code < 300:
        return Result(False, f"{_answer(response)} to the preflight")
    if "authorization" not in allow_headers and allow_headers.strip() != "*":
        return Result(False, f"Access-Control-Allow-Headers {allow_headers!r} leaves out Authorization")
    return Result(True, f"{response.status_code}, Access-Control-Allow-Origin: {allow_origin}")


def check_cors_refused(target: Target) -> Result:
    """Another site's origin gets no Access-Control-Allow-Origin, so browsers keep it out."""
    response = _preflight(target, target.refused_origin)
    allow_origin = response.headers.get("Access-Control-Allow-Origin")
    if allow_origin is None:
        return Result(
            True, f"{response.status_code}, no Access-Control-Allow-Origin for {target.refused_origin}"
        )
    return Result(
        False, f"Access-Control-Allow-Origin: {allow_origin} for {target.refused_origin}: any site may call"
    )


def check_openapi(target: Target) -> Result:
    """`/api/openapi.json` is served: the document the panel's developers and API tools read."""
    response = target.request("GET", "/api/openapi.json")
    body = _json(response)
    if response.status_code == 200 and isinstance(body, dict) and isinstance(body.get("openapi"), str):
        paths = body.get("paths")
        return Result(
            True, f"200, OpenAPI {body['openapi']}, {len(paths) if isinstance(paths, dict) else 0} paths"
        )
    if response.status_code == 200:
        return Result(False, "200 but not an OpenAPI document (no `openapi` field)")
    return Result(False, _answer(response))


Check = Callable[[Target], Result]
CHECKS: dict[str, Check] = {
    "health": check_health,
    "handshake": check_handshake,
    "handshake-refusal": check_handshake_refusal,
    "webhook-signature": check_webhook_signature,
    "agent-auth": check_agent_auth,
    "cors-allowed": check_cors_allowed,
    "cors-refused": check_cors_refused,
    "openapi": check_openapi,
}


# Running and reporting ----------------------------------------------------------------------------


def run_checks(target: Target, checks: dict[str, Check] = CHECKS) -> list[tuple[str, Result | None]]:
    """Each check's result in order; None for those skipped once nothing answers at the URL."""
    results: list[tuple[str, Result | None]] = []
    unreachable = False
    for name, check in checks.items():
        if unreachable:
            results.append((name, None))
            continue
        try:
            result = check(target)
        except NoAnswer as error:
            result = Result(False, str(error))
        except Unreachable as error:
            result, unreachable = Result(False, str(error)), True
        results.append((name, result))
    return results


def report(results: list[tuple[str, Result | None]], secrets_to_hide: tuple[str, ...] = ()) -> list[str]:
    """`ok   health  200, ...` / `FAIL handshake  403: ...` / `skip ...`, then a summary line."""
    width = max(len(name) for name, _ in results)
    lines = []
    for name, result in results:
        status = "skip" if result is None else "ok" if result.ok else "FAIL"
        detail = "not run: nothing answers at the URL" if result is None else result.detail
        lines.append(f"{status:<4} {name:<{width}}  {detail}")
    failed = [name for name, result in results if result is not None and not result.ok]
    skipped = sum(result is None for _, result in results)
    summary = f"{len(results)} checks: {len(results) - len(failed) - skipped} ok, {len(failed)} failed"
    summary += f", {skipped} skipped" if skipped else ""
    lines.append(summary + (f" ({', '.join(failed)})" if failed else ""))
    return [_hide(line, secrets_to_hide) for line in lines]


def _hide(line: str, secret_values: tuple[str, ...]) -> str:
    """Belt and braces: no line shows the verify token, whatever a server echoed back."""
    line = redact(line)
    for value in secret_values:
        if value:
            line = line.replace(value, "***")
    return line


# Command line -------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", required=True, help="the app's address, e.g. https://<app>.azurewebsites.net"
    )
    parser.add_argument(
        "--verify-token",
        help="Meta's webhook verify token (default: WHATSAPP_VERIFY_TOKEN; prefer the variable, "
        "a command line is visible to other users); never printed",
    )
    parser.add_argument(
        "--origin", help="an origin the app must allow (default: the first of ALLOWED_ORIGINS)"
    )
    parser.add_argument(
        "--refused-origin",
        default=DEFAULT_REFUSED_ORIGIN,
        help=f"an origin the app must refuse (default {DEFAULT_REFUSED_ORIGIN})",
    )
    parser.add_argument(
        "--allow-open-agent-routes",
        action="store_true",
        help="a local app with AUTH_DISABLED=true: agent routes answering without a token pass "
        "(only for a loopback --url)",
    )
    parser.add_argument(
        "--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds per request (default 10)"
    )


def target_from(args: argparse.Namespace) -> Target | str:
    """The target, or why the command line cannot describe one."""
    url = args.url.strip().rstrip("/")
    url = url.removesuffix("/api")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"--url must be the app's http(s) address, e.g. https://<app>.azurewebsites.net, not {args.url!r}"
        )
    if args.allow_open_agent_routes and parts.hostname not in LOOPBACK_HOSTS:
        return (
            "--allow-open-agent-routes is for a local app only (a loopback --url): a deployment must refuse"
        )
    allowed = [o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip()]
    origin = args.origin or (allowed[0] if allowed else "")
    if origin and origin == args.refused_origin:
        return "--refused-origin must differ from the allowed origin"
    if args.timeout <= 0:
        return "--timeout must be positive"
    return Target(
        url=url,
        verify_token=args.verify_token or os.environ.get("WHATSAPP_VERIFY_TOKEN", ""),
        origin=origin,
        refused_origin=args.refused_origin,
        allow_open_agent_routes=args.allow_open_agent_routes,
        timeout=args.timeout,
    )


def run(args: argparse.Namespace) -> int:
    """0 when every check passes, 1 when one fails, 2 when the command line is wrong."""
    target = target_from(args)
    if isinstance(target, str):
        print(target, file=sys.stderr)
        return 2
    source = (
        "--verify-token" if args.verify_token else "WHATSAPP_VERIFY_TOKEN" if target.verify_token else "none"
    )
    print(
        f"smoke test of {target.url} (verify token: {source}; allowed origin: {target.origin or 'none'}; "
        f"refused origin: {target.refused_origin})"
    )
    results = run_checks(target)
    for line in report(results, (target.verify_token,)):
        print(line)
    return 0 if all(result is not None and result.ok for _, result in results) else 1
