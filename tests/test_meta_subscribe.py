"""`python -m devhost meta-subscribe` against the WhatsApp sandbox playing Meta and the real app over HTTP
(emulators, the devhost's host): the sandbox verifies the callback with Meta's GET handshake, so the
app's own verify-token check decides. Then the sandbox's subscribed_apps endpoints alone, against a
pytest-httpserver callback, for what Meta documents: "Webhook overrides"
(https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/override/) and Meta's
OpenAPI document (tests/fixtures/meta-openapi, `/{Version}/{WABA-ID}/subscribed_apps`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from devhost.__main__ import main
from devhost.host import LocalFunctionsHost, QueueRules
from devhost.meta_subscribe import callback_refusal
from devhost.sandbox import SANDBOX_APP, WABA_ID, WhatsAppSandbox
from shared.services import Services
from tests.payloads import APP_SECRET, VERIFY_TOKEN

ACCESS_TOKEN = "test-access-token"


@pytest.fixture
def app_and_meta(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, WhatsAppSandbox]]:
    """The app's webhook URL and the sandbox in Meta's place; the operator's shell holds the tokens."""
    from function_app import app

    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN)
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
    host = LocalFunctionsHost(app, {}, QueueRules(), port=0, run_queue_triggers=False)
    host.start_in_background()
    callback = f"{host.base_url}/api/whatsapp/webhook"
    meta = WhatsAppSandbox(callback, APP_SECRET, ACCESS_TOKEN, status_delays=(), retry_delays=())
    meta.start_in_background()
    yield callback, meta
    meta.stop()
    host.stop()


def meta_subscribe(
    capsys: pytest.CaptureFixture[str], meta: WhatsAppSandbox, callback: str, *args: str
) -> tuple[int, str, str]:
    argv = ["meta-subscribe", "--waba", WABA_ID, "--callback", callback, "--graph-url", meta.base_url, *args]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def listing(meta: WhatsAppSandbox, token: str = ACCESS_TOKEN) -> requests.Response:
    return requests.get(
        f"{meta.base_url}/v23.0/{WABA_ID}/subscribed_apps",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def test_the_app_is_subscribed_and_meta_lists_its_callback(
    app_and_meta: tuple[str, WhatsAppSandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    callback, meta = app_and_meta
    code, out, err = meta_subscribe(capsys, meta, callback)
    assert (code, err) == (0, "")
    assert f"WhatsApp sandbox (app id {SANDBOX_APP['id']}): {callback}" in out
    assert meta.subscriptions == {WABA_ID: {"override_callback_uri": callback}}
    # Meta's documented answer ("Get WABA alternate callback"): the app's id, name, link and the override.
    assert listing(meta).json() == {
        "data": [
            {
                "whatsapp_business_api_data": {
                    "id": SANDBOX_APP["id"],
                    "name": SANDBOX_APP["name"],
                    "link": f"https://www.facebook.com/games/?app_id={SANDBOX_APP['id']}",
                },
                "override_callback_uri": callback,
            }
        ]
    }
    assert VERIFY_TOKEN not in out + err
    assert ACCESS_TOKEN not in out + err


def test_a_wrong_verify_token_fails_metas_handshake_with_metas_message(
    app_and_meta: tuple[str, WhatsAppSandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    callback, meta = app_and_meta
    code, _, err = meta_subscribe(capsys, meta, callback, "--verify-token", "not-the-apps-token")
    assert code == 1
    assert (
        "Meta refused the override callback URL: (#2200) Callback verification failed with the following "
        "errors: HTTP Status Code = 403; HTTP Message = Forbidden [HTTP 400, code 2200, type OAuthException, "
        "fbtrace_id "
    ) in err
    assert "is the app deployed and answering" in err  # what to do about it
    assert meta.subscriptions == {WABA_ID: {}}  # subscribed, but the callback is not overridden
    assert "override_callback_uri" not in listing(meta).json()["data"][0]
    assert "not-the-apps-token" not in err


def test_a_wrong_access_token_is_refused_with_code_190(
    app_and_meta: tuple[str, WhatsAppSandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    callback, meta = app_and_meta
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "expired-token")
    code, _, err = meta_subscribe(capsys, meta, callback)
    assert code == 1
    assert "Error validating access token" in err
    assert "[HTTP 401, code 190, type OAuthException" in err
    assert "expired-token" not in err
    assert meta.subscriptions == {}
    assert listing(meta, "expired-token").json()["error"]["code"] == 190


def test_success_without_the_callback_in_metas_listing_is_a_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    """Meta's word is its listing: a "success" that does not show our callback is not one."""
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN)
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
    path = f"/v23.0/{WABA_ID}/subscribed_apps"
    httpserver.expect_request(path, method="POST").respond_with_json({"success": True})
    other = {"whatsapp_business_api_data": SANDBOX_APP, "override_callback_uri": "https://old.example/hook"}
    httpserver.expect_request(path, method="GET").respond_with_json({"data": [other]})
    callback = "https://contoso-wa.azurewebsites.net/api/whatsapp/webhook"
    argv = ["--waba", WABA_ID, "--callback", callback, "--graph-url", httpserver.url_for("/")]
    assert main(["meta-subscribe", *argv]) == 1
    out, err = capsys.readouterr()
    assert "WhatsApp sandbox (app id 1234567890123456): https://old.example/hook" in out
    assert f"Meta does not list {callback} as an override callback" in err
    posted = [request.get_json() for request, _ in httpserver.log if request.method == "POST"]
    assert posted == [{}, {"override_callback_uri": callback, "verify_token": VERIFY_TOKEN}]
    assert {request.headers["Authorization"] for request, _ in httpserver.log} == {f"Bearer {ACCESS_TOKEN}"}


@pytest.mark.parametrize(
    ("args", "env", "why"),
    [
        (["--callback", "http://contoso.example/api/whatsapp/webhook"], {}, "must be an https URL"),
        (["--callback", "https://x.azurewebsites.net/" + "a" * 200], {}, "longer than Meta's 200"),
        (["--waba", "my-waba"], {}, "numeric id"),
        ([], {"WHATSAPP_ACCESS_TOKEN": ""}, "set WHATSAPP_ACCESS_TOKEN"),
        ([], {"WHATSAPP_VERIFY_TOKEN": ""}, "pass --verify-token or set WHATSAPP_VERIFY_TOKEN"),
    ],
)
def test_a_command_that_cannot_work_sends_nothing(
    args: list[str],
    env: dict[str, str],
    why: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    httpserver: HTTPServer,
) -> None:
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN)
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    base = ["--waba", WABA_ID, "--callback", "https://x.azurewebsites.net/api/whatsapp/webhook"]
    assert main(["meta-subscribe", *base, "--graph-url", httpserver.url_for("/"), *args]) == 2
    assert why in capsys.readouterr().err
    assert httpserver.log == []


def test_only_https_callbacks_or_this_machine() -> None:
    assert callback_refusal("https://contoso-wa.azurewebsites.net/api/whatsapp/webhook") is None
    assert callback_refusal("http://127.0.0.1:7071/api/whatsapp/webhook") is None
    assert callback_refusal("http://localhost:7071/api/whatsapp/webhook") is None
    assert callback_refusal("http://contoso-wa.azurewebsites.net/api/whatsapp/webhook")
    assert callback_refusal("ftp://contoso-wa.azurewebsites.net/webhook")
    assert callback_refusal("https:///api/whatsapp/webhook")


# --- the sandbox's subscribed_apps, alone ----------------------------------------------------------


@pytest.fixture
def meta() -> Iterator[WhatsAppSandbox]:
    served = WhatsAppSandbox("http://127.0.0.1:9/unused", APP_SECRET, ACCESS_TOKEN, status_delays=())
    served.start_in_background()
    yield served
    served.stop()


def post(meta: WhatsAppSandbox, body: dict[str, Any] | None = None, waba: str = WABA_ID) -> requests.Response:
    return requests.post(
        f"{meta.base_url}/v23.0/{waba}/subscribed_apps",
        json=body,
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
        timeout=10,
    )


def graph_error(response: requests.Response, status: int, code: int) -> dict[str, Any]:
    """Meta's error shape: {"error": {"message", "type", "code", "fbtrace_id", ...}}."""
    assert response.status_code == status
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["type"] in ("OAuthException", "GraphMethodException")
    assert error["message"]
    assert error["fbtrace_id"]
    return error


def test_the_sandbox_verifies_a_callback_exactly_as_meta_does(
    meta: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    seen: list[dict[str, str]] = []

    def echo(request: Request) -> Response:
        seen.append(dict(request.args))
        return Response(request.args["hub.challenge"], mimetype="text/plain")

    httpserver.expect_request("/hook", method="GET").respond_with_handler(echo)
    callback = httpserver.url_for("/hook")
    assert listing(meta).json() == {"data": []}  # nothing subscribed yet
    assert post(meta).json() == {"success": True}
    assert listing(meta).json() == {"data": [{"whatsapp_business_api_data": SANDBOX_APP}]}
    assert seen == []  # a plain subscription calls nobody

    answer = post(meta, {"override_callback_uri": callback, "verify_token": "the-token"})

    assert answer.json() == {"success": True}
    [params] = seen
    assert set(params) == {"hub.mode", "hub.challenge", "hub.verify_token"}
    assert params["hub.mode"] == "subscribe"
    assert params["hub.verify_token"] == "the-token"
    assert params["hub.challenge"].isdigit()  # Meta: "an int you must pass back"
    assert listing(meta).json()["data"][0]["override_callback_uri"] == callback


def test_a_callback_that_does_not_echo_the_challenge_is_refused(
    meta: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("OK")
    post(meta)
    error = graph_error(
        post(meta, {"override_callback_uri": httpserver.url_for("/hook"), "verify_token": "t"}), 400, 2200
    )
    assert error["message"].startswith("(#2200) Callback verification failed with the following errors: ")
    assert "Response does not match challenge" in error["message"]
    assert meta.subscriptions == {WABA_ID: {}}


def test_an_unreachable_callback_is_refused(meta: WhatsAppSandbox) -> None:
    post(meta)
    error = graph_error(
        post(meta, {"override_callback_uri": "http://127.0.0.1:9/hook", "verify_token": "t"}), 400, 2200
    )
    assert "HTTP Status Code = 0" in error["message"]


def test_meta_wants_the_app_subscribed_before_an_override(
    meta: WhatsAppSandbox, httpserver: HTTPServer
) -> None:
    body = {"override_callback_uri": httpserver.url_for("/hook"), "verify_token": "t"}
    error = graph_error(post(meta, body), 400, 100)
    assert "your app must be subscribed" in error["message"]
    assert httpserver.log == []  # refused before any handshake


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"override_callback_uri": "https://x.example/hook"}, "verify_token is required"),
        ({"override_callback_uri": "http://x.example/hook", "verify_token": "t"}, "https URL"),
        ({"override_callback_uri": "https://x.example/" + "a" * 200, "verify_token": "t"}, "200 characters"),
    ],
)
def test_an_override_meta_would_not_take_is_refused(
    meta: WhatsAppSandbox, body: dict[str, Any], why: str
) -> None:
    post(meta)
    error = graph_error(post(meta, body), 400, 100)
    assert why in error["error_data"]["details"]


def test_another_waba_and_a_wrong_token_are_refused_as_meta_refuses_them(meta: WhatsAppSandbox) -> None:
    error = graph_error(post(meta, waba="42"), 400, 100)
    assert error["error_subcode"] == 33
    assert "Object with ID '42' does not exist" in error["message"]
    graph_error(listing(meta, "wrong"), 401, 190)
    wrong = requests.post(
        f"{meta.base_url}/v23.0/{WABA_ID}/subscribed_apps", headers={"Authorization": "Bearer x"}, timeout=5
    )
    graph_error(wrong, 401, 190)
    assert meta.subscriptions == {}
