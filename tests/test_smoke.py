"""`python -m devhost smoke` against the real app over HTTP (the emulators, the devhost's own WSGI host
with its CORS rule, as test_local_host.py serves it), and against a badly configured stand-in, so that
every check is seen both to pass and to fail."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from devhost.__main__ import main
from devhost.host import LocalFunctionsHost, QueueRules
from devhost.smoke import AGENT_READ, AGENT_SEND, CHECKS, WEBHOOK, Result, report
from shared import services as services_module
from shared.auth import entra
from shared.services import Services
from tests.payloads import VERIFY_TOKEN
from tests.test_auth import API_CLIENT_ID, TENANT

ORIGIN = "https://contoso.crm.dynamics.com"


@pytest.fixture
def local_app(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app as `make run` serves it, allowing the D365 origin; the smoke test reads the same
    WHATSAPP_VERIFY_TOKEN and ALLOWED_ORIGINS from the environment as an operator's shell would."""
    from function_app import app

    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
    monkeypatch.setenv("ALLOWED_ORIGINS", f"{ORIGIN},https://other.crm.dynamics.com")
    host = LocalFunctionsHost(
        app, {}, QueueRules(), port=0, allowed_origins=[ORIGIN], run_queue_triggers=False
    )
    host.start_in_background()
    yield host.base_url
    host.stop()


def smoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, tuple[str, str]], str]:
    """Exit code, each check's (status, detail) by name, and everything printed."""
    code = main(["smoke", *args])
    out, err = capsys.readouterr()
    checks = {}
    for line in out.splitlines():
        status, _, rest = line.partition(" ")
        name, _, detail = rest.strip().partition("  ")
        if status in ("ok", "FAIL", "skip"):
            checks[name] = (status, detail.strip())
    return code, checks, out + err


def statuses(checks: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {name: status for name, (status, _) in checks.items()}


def test_a_correctly_configured_local_app_passes_every_check(
    local_app: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, checks, printed = smoke(capsys, "--url", local_app, "--allow-open-agent-routes")
    assert statuses(checks) == dict.fromkeys(CHECKS, "ok"), printed
    assert code == 0
    assert checks["agent-auth"][1].startswith("open: 200 without a token")
    assert (
        checks["cors-allowed"][1] == f"204, Access-Control-Allow-Origin: {ORIGIN}"
    )  # first of ALLOWED_ORIGINS
    assert "8 checks: 8 ok, 0 failed" in printed
    assert VERIFY_TOKEN not in printed


def test_open_agent_routes_fail_unless_the_run_is_declared_local(
    local_app: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, checks, printed = smoke(capsys, "--url", local_app)
    assert code == 1
    assert statuses(checks) == {**dict.fromkeys(CHECKS, "ok"), "agent-auth": "FAIL"}, printed
    assert "agent routes are open" in checks["agent-auth"][1]
    assert "AUTH_DISABLED" in checks["agent-auth"][1]
    assert "8 checks: 7 ok, 1 failed (agent-auth)" in printed


def test_an_app_that_asks_for_tokens_passes_without_the_flag(
    local_app: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As deployed: sign-in configured. A token that is not a JWT is refused before any key is fetched.
    for name, value in {
        "AUTH_DISABLED": "false",
        "AUTH_TENANT_ID": TENANT,
        "AUTH_AUDIENCE": API_CLIENT_ID,
        "AUTH_AUTHORITY": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(name, value)
    services_module.reset()
    entra.reset()
    code, checks, printed = smoke(capsys, "--url", local_app)
    assert statuses(checks) == dict.fromkeys(CHECKS, "ok"), printed
    assert code == 0
    assert checks["agent-auth"][1] == "401 without a token, 401 with a bad token"


def test_a_wrong_verify_token_fails_the_handshake_and_is_never_printed(
    local_app: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "not-the-apps-verify-token"
    code, checks, printed = smoke(
        capsys, "--url", local_app, "--allow-open-agent-routes", "--verify-token", wrong
    )
    assert code == 1
    assert statuses(checks) == {**dict.fromkeys(CHECKS, "ok"), "handshake": "FAIL"}, printed
    assert checks["handshake"][1].startswith("403: the app refused the verify token")
    assert wrong not in printed
    assert VERIFY_TOKEN not in printed


def test_a_stopped_app_fails_health_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, checks, printed = smoke(
        capsys, "--url", f"http://127.0.0.1:{port}", "--verify-token", VERIFY_TOKEN, "--origin", ORIGIN
    )
    assert code == 1
    assert checks["health"] == ("FAIL", f"cannot connect to 127.0.0.1:{port}: Connection refused")
    assert statuses(checks) == {**dict.fromkeys(CHECKS, "skip"), "health": "FAIL"}
    assert "8 checks: 0 ok, 1 failed, 7 skipped (health)" in printed
    assert "Traceback" not in printed
    assert VERIFY_TOKEN not in printed


def test_missing_settings_are_failures_that_say_what_to_set(
    local_app: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WHATSAPP_VERIFY_TOKEN")  # the app read its settings already
    monkeypatch.delenv("ALLOWED_ORIGINS")
    code, checks, _ = smoke(capsys, "--url", local_app, "--allow-open-agent-routes")
    assert code == 1
    assert checks["handshake"] == (
        "FAIL",
        "no verify token to try: pass --verify-token or set WHATSAPP_VERIFY_TOKEN",
    )
    assert checks["cors-allowed"] == (
        "FAIL",
        "no allowed origin to try: pass --origin or set ALLOWED_ORIGINS",
    )


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--url", "https://app.invalid", "--allow-open-agent-routes"], "for a local app"),
        (["--url", "app.azurewebsites.net"], "--url must be"),
        (["--url", "https://app.invalid", "--origin", ORIGIN, "--refused-origin", ORIGIN], "must differ"),
    ],
)
def test_a_command_line_that_cannot_work_is_refused_before_any_request(
    args: list[str], why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["smoke", *args]) == 2
    out, err = capsys.readouterr()
    assert why in err
    assert out == ""


def test_every_check_fails_against_a_badly_configured_app(
    httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stand-in that gets everything wrong: each check must say so, with the reason."""
    degraded = {"status": "degraded", "backends": {"cosmos": "unavailable", "queues": "ok", "blobs": "ok"}}
    httpserver.expect_request("/api/health").respond_with_json(degraded, status=503)
    httpserver.expect_request(WEBHOOK, method="GET").respond_with_data("ok")  # never the challenge
    httpserver.expect_request(WEBHOOK, method="POST").respond_with_json({"stored": 0})  # signature unchecked
    httpserver.expect_request(AGENT_READ).respond_with_json({"active": False})  # no token asked
    anyone = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*"}
    httpserver.expect_request(AGENT_SEND, method="OPTIONS").respond_with_data("", 204, headers=anyone)
    missing = {"error": {"code": "not_found", "message": "no such route"}}
    httpserver.expect_request("/api/openapi.json").respond_with_json(missing, status=404)
    url = httpserver.url_for("/").rstrip("/")

    code, checks, printed = smoke(capsys, "--url", url, "--verify-token", VERIFY_TOKEN, "--origin", ORIGIN)

    assert code == 1
    assert statuses(checks) == dict.fromkeys(CHECKS, "FAIL"), printed
    assert checks["health"][1] == "HTTP 503, status degraded (cosmos unavailable, queues ok, blobs ok)"
    assert checks["handshake"][1] == "200 but the body is not the challenge: Meta would not subscribe"
    assert checks["handshake-refusal"][1] == "HTTP 200 'ok'; expected 403"
    assert "unsigned: HTTP 200" in checks["webhook-signature"][1]
    assert "agent routes are open" in checks["agent-auth"][1]
    assert checks["cors-allowed"][1] == f"Access-Control-Allow-Origin is '*', not {ORIGIN}"
    assert checks["cors-refused"][1].startswith("Access-Control-Allow-Origin: * for https://evil.example")
    assert checks["openapi"][1] == "HTTP 404 not_found: no such route"
    assert "8 checks: 0 ok, 8 failed" in printed
    assert VERIFY_TOKEN not in printed


def test_no_line_shows_the_verify_token_whatever_a_server_echoed() -> None:
    echoed = Result(
        False, f"HTTP 500 'GET /api/whatsapp/webhook?hub.verify_token={VERIFY_TOKEN}' and {VERIFY_TOKEN}"
    )
    lines = report([("handshake", echoed)], (VERIFY_TOKEN,))
    assert VERIFY_TOKEN not in "\n".join(lines)
    assert lines[0].startswith("FAIL handshake")
