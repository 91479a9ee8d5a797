"""Entra ID sign-in for the D365-facing routes: real RS256 tokens, a real key endpoint (pytest-httpserver)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shared.auth import entra
from shared.auth.entra import LOCAL_PRINCIPAL, AuthError, Principal, authenticate
from shared.config import Settings

TENANT = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
OTHER_TENANT = "9b2e6c1a-7d4f-4e8b-a1c2-5d6e7f8091a2"
API_CLIENT_ID = "6c1f3a52-0b7e-4d4a-9f0e-2a8b1c3d4e5f"
API_ID_URI = f"api://{API_CLIENT_ID}"
AGENT_OID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ROLE = "WhatsApp.Agent"
KEYS_PATH = f"/{TENANT}/discovery/v2.0/keys"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rotated_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class KeyEndpoint:
    """The tenant's JWKS document, as Entra serves it; counts fetches to show the cache at work."""

    keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)
    fetches: int = 0

    def handle(self, request: Request) -> Response:
        self.fetches += 1
        jwks = {"keys": [_public_jwk(kid, key) for kid, key in self.keys.items()]}
        return Response(json.dumps(jwks), content_type="application/json")


@pytest.fixture(autouse=True)
def _fresh_validators() -> Iterator[None]:
    entra.reset()
    yield
    entra.reset()


@pytest.fixture
def authority(httpserver: HTTPServer) -> str:
    # Left with its trailing slash on purpose: the setting is typed by people.
    return httpserver.url_for("")


@pytest.fixture
def key_endpoint(httpserver: HTTPServer, signing_key: rsa.RSAPrivateKey) -> KeyEndpoint:
    endpoint = KeyEndpoint(keys={"key-1": signing_key.public_key()})
    httpserver.expect_request(KEYS_PATH).respond_with_handler(endpoint.handle)
    return endpoint


def settings_for(authority: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "AUTH_TENANT_ID": TENANT,
        "AUTH_AUDIENCE": f"{API_CLIENT_ID}, {API_ID_URI}",
        "AUTH_REQUIRED_ROLE": "",
        "AUTH_DISABLED": False,
        "AUTH_AUTHORITY": authority,
    }
    values.update(overrides)
    return Settings(**values)


def claims_for(authority: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": API_CLIENT_ID,
        "iss": f"{authority.rstrip('/')}/{TENANT}/v2.0",
        "tid": TENANT,
        "oid": AGENT_OID,
        "name": "Ada Agent",
        "preferred_username": "ada@contoso.example",
        "roles": [ROLE],
        "scp": "Messages.Send",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "ver": "2.0",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str = "key-1") -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def bearer(token: str) -> str:
    return f"Bearer {token}"


def refusal(authorization: str | None, settings: Settings) -> AuthError:
    with pytest.raises(AuthError) as caught:
        authenticate(authorization, settings)
    return caught.value


def assert_unauthenticated(error: AuthError) -> None:
    assert error.status == 401
    assert error.code == "unauthenticated"
    assert error.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}


# --- accepted -----------------------------------------------------------------------------------------


def test_an_agents_v2_token_identifies_the_agent(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority), signing_key)

    principal = authenticate(bearer(token), settings_for(authority))

    assert principal == Principal(object_id=AGENT_OID, tenant_id=TENANT, name="Ada Agent", roles=(ROLE,))


def test_a_v1_token_from_the_same_tenant_is_accepted(authority, key_endpoint, signing_key):
    claims = claims_for(
        authority, iss=f"https://sts.windows.net/{TENANT}/", aud=API_ID_URI, ver="1.0", name=None
    )

    principal = authenticate(bearer(sign(claims, signing_key)), settings_for(authority))

    assert principal.object_id == AGENT_OID
    assert principal.name == "ada@contoso.example"


def test_the_bearer_scheme_is_case_insensitive(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority), signing_key)

    assert authenticate(f"bearer {token}", settings_for(authority)).object_id == AGENT_OID


def test_an_agent_holding_the_required_role_is_let_in(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority), signing_key)

    principal = authenticate(bearer(token), settings_for(authority, AUTH_REQUIRED_ROLE=ROLE))

    assert ROLE in principal.roles


def test_a_small_clock_difference_is_tolerated(authority, key_endpoint, signing_key):
    now = int(time.time())
    token = sign(claims_for(authority, iat=now + 30, nbf=now + 30, exp=now - 30 + 3600), signing_key)

    assert authenticate(bearer(token), settings_for(authority)).object_id == AGENT_OID


def test_a_token_without_roles_has_none(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority, roles=None), signing_key)

    assert authenticate(bearer(token), settings_for(authority)).roles == ()


# --- refused: the token ------------------------------------------------------------------------------


def test_a_token_for_another_api_is_refused(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority, aud="api://some-other-api"), signing_key)

    error = refusal(bearer(token), settings_for(authority))

    assert_unauthenticated(error)
    assert "audience" in error.message


def test_an_expired_token_is_refused(authority, key_endpoint, signing_key):
    now = int(time.time())
    token = sign(claims_for(authority, iat=now - 7200, nbf=now - 7200, exp=now - 120), signing_key)

    error = refusal(bearer(token), settings_for(authority))

    assert_unauthenticated(error)
    assert "expired" in error.message


def test_a_token_not_yet_valid_is_refused(authority, key_endpoint, signing_key):
    now = int(time.time())
    token = sign(claims_for(authority, nbf=now + 600, exp=now + 4000), signing_key)

    assert_unauthenticated(refusal(bearer(token), settings_for(authority)))


def test_a_token_without_expiry_is_refused(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority, exp=None), signing_key)

    error = refusal(bearer(token), settings_for(authority))

    assert_unauthenticated(error)
    assert "'exp'" in error.message


def test_a_token_from_another_tenant_is_refused(authority, key_endpoint, signing_key):
    claims = claims_for(authority, iss=f"{authority.rstrip('/')}/{OTHER_TENANT}/v2.0", tid=OTHER_TENANT)

    error = refusal(bearer(sign(claims, signing_key)), settings_for(authority))

    assert_unauthenticated(error)
    assert "tenant" in error.message


def test_a_v1_token_from_another_tenant_is_refused(authority, key_endpoint, signing_key):
    claims = claims_for(authority, iss=f"https://sts.windows.net/{OTHER_TENANT}/", tid=OTHER_TENANT)

    assert_unauthenticated(refusal(bearer(sign(claims, signing_key)), settings_for(authority)))


def test_a_token_from_another_authority_is_refused(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority, iss=f"https://login.example.net/{TENANT}/v2.0"), signing_key)

    error = refusal(bearer(token), settings_for(authority))

    assert_unauthenticated(error)
    assert "issued by" in error.message


def test_the_tenant_setting_may_be_typed_in_upper_case(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority), signing_key)

    principal = authenticate(bearer(token), settings_for(authority, AUTH_TENANT_ID=f" {TENANT.upper()} "))

    assert principal.tenant_id == TENANT


def test_a_token_whose_tenant_claim_disagrees_with_its_issuer_is_refused(
    authority, key_endpoint, signing_key
):
    token = sign(claims_for(authority, tid=OTHER_TENANT), signing_key)

    error = refusal(bearer(token), settings_for(authority))

    assert_unauthenticated(error)
    assert "tenant" in error.message


def test_a_token_without_an_object_id_is_refused(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority, oid=None), signing_key)

    error = refusal(bearer(token), settings_for(authority))

    assert_unauthenticated(error)
    assert "oid" in error.message


def test_an_unsigned_token_is_refused_without_fetching_keys(authority, key_endpoint):
    token = _hand_made_token({"alg": "none", "typ": "JWT", "kid": "key-1"}, claims_for(authority), b"")

    error = refusal(bearer(token), settings_for(authority))

    assert_unauthenticated(error)
    assert key_endpoint.fetches == 0


def test_a_token_hmac_signed_with_the_public_key_is_refused(authority, key_endpoint, signing_key):
    public_pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "key-1"}
    signing_input = _signing_input(header, claims_for(authority))
    signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    token = _hand_made_token(header, claims_for(authority), signature)

    error = refusal(bearer(token), settings_for(authority))

    assert_unauthenticated(error)
    assert "RS256" in error.message


def test_a_token_signed_by_an_unpublished_key_under_a_known_kid_is_refused(
    authority, key_endpoint, attacker_key
):
    token = sign(claims_for(authority), attacker_key, kid="key-1")

    error = refusal(bearer(token), settings_for(authority))

    assert_unauthenticated(error)
    assert "signature" in error.message


def test_a_token_naming_a_key_the_tenant_never_published_is_refused(authority, key_endpoint, attacker_key):
    token = sign(claims_for(authority), attacker_key, kid="attacker-key")

    assert_unauthenticated(refusal(bearer(token), settings_for(authority)))


def test_a_token_without_a_key_id_is_refused(authority, key_endpoint, signing_key):
    token = jwt.encode(claims_for(authority), signing_key, algorithm="RS256")

    assert_unauthenticated(refusal(bearer(token), settings_for(authority)))


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30"])
def test_garbage_in_place_of_a_token_is_refused(authority, key_endpoint, garbage):
    assert_unauthenticated(refusal(bearer(garbage), settings_for(authority)))


# --- refused: the header ------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNzd29yZA==", "token"])
def test_a_request_without_a_bearer_token_is_asked_to_sign_in(authority, key_endpoint, header):
    error = refusal(header, settings_for(authority))

    assert error.status == 401
    assert error.code == "unauthenticated"
    assert error.headers == {"WWW-Authenticate": "Bearer"}
    assert "Bearer" in error.message
    assert key_endpoint.fetches == 0


# --- refused: the role --------------------------------------------------------------------------------


def test_an_agent_without_the_required_role_is_forbidden(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority, roles=["Something.Else"]), signing_key)

    error = refusal(bearer(token), settings_for(authority, AUTH_REQUIRED_ROLE=ROLE))

    assert error.status == 403
    assert error.code == "forbidden"
    assert ROLE in error.message
    assert error.headers == {}


def test_a_token_with_no_roles_at_all_is_forbidden_when_a_role_is_required(
    authority, key_endpoint, signing_key
):
    token = sign(claims_for(authority, roles=None), signing_key)

    assert refusal(bearer(token), settings_for(authority, AUTH_REQUIRED_ROLE=ROLE)).status == 403


# --- configuration ------------------------------------------------------------------------------------


def test_with_auth_disabled_every_request_is_the_local_developer():
    settings = Settings(AUTH_DISABLED=True, AUTH_TENANT_ID="", AUTH_AUDIENCE="")

    assert authenticate(None, settings) is LOCAL_PRINCIPAL
    assert authenticate("Bearer whatever", settings) is LOCAL_PRINCIPAL
    assert LOCAL_PRINCIPAL.object_id == "local-developer"


@pytest.mark.parametrize(
    ("tenant", "audience"),
    [("", API_CLIENT_ID), (TENANT, ""), (TENANT, " , "), ("contoso.onmicrosoft.com", "x")],
)
def test_an_unconfigured_api_says_so_rather_than_refusing_the_agent(authority, tenant, audience, signing_key):
    settings = settings_for(authority, AUTH_TENANT_ID=tenant, AUTH_AUDIENCE=audience)

    error = refusal(bearer(sign(claims_for(authority), signing_key)), settings)

    assert error.status == 503
    assert error.code == "auth_not_configured"
    assert error.headers == {}


# --- the key endpoint ---------------------------------------------------------------------------------


def test_the_signing_keys_are_fetched_once_and_reused(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority), signing_key)

    authenticate(bearer(token), settings_for(authority))
    authenticate(bearer(token), settings_for(authority))  # a new Settings each request, as a reload would

    assert key_endpoint.fetches == 1


def test_a_key_rolled_over_by_entra_is_fetched_and_accepted(
    authority, key_endpoint, signing_key, rotated_key, monkeypatch
):
    # The production cooldown (abuse protection) would delay this refetch up to 30 s; not what is tested here.
    monkeypatch.setattr(entra, "JWKS_REFRESH_COOLDOWN_SECONDS", 0.0)
    settings = settings_for(authority)
    authenticate(bearer(sign(claims_for(authority), signing_key)), settings)
    authenticate(bearer(sign(claims_for(authority), signing_key)), settings)
    assert key_endpoint.fetches == 1

    key_endpoint.keys["key-2"] = rotated_key.public_key()
    principal = authenticate(bearer(sign(claims_for(authority), rotated_key, kid="key-2")), settings)

    assert principal.object_id == AGENT_OID
    assert key_endpoint.fetches == 2
    authenticate(bearer(sign(claims_for(authority), rotated_key, kid="key-2")), settings)
    assert key_endpoint.fetches == 2


def test_made_up_key_ids_cannot_make_us_hammer_the_key_endpoint(
    authority, key_endpoint, attacker_key, signing_key
):
    settings = settings_for(authority)
    authenticate(bearer(sign(claims_for(authority), signing_key)), settings)

    for n in range(5):
        token = sign(claims_for(authority), attacker_key, kid=f"made-up-{n}")
        assert_unauthenticated(refusal(bearer(token), settings))

    assert key_endpoint.fetches == 1


def test_each_configuration_keeps_its_own_validator(authority, key_endpoint, signing_key):
    token = sign(claims_for(authority), signing_key)

    authenticate(bearer(token), settings_for(authority))
    authenticate(bearer(token), settings_for(authority, AUTH_REQUIRED_ROLE=ROLE))

    assert key_endpoint.fetches == 2


def test_a_key_endpoint_that_fails_is_reported_as_unavailable(httpserver, authority, signing_key):
    httpserver.expect_request(KEYS_PATH).respond_with_data("upstream trouble", status=503)

    error = refusal(bearer(sign(claims_for(authority), signing_key)), settings_for(authority))

    assert error.status == 503
    assert error.code == "auth_unavailable"
    assert error.headers == {}


def test_an_unreachable_key_endpoint_is_reported_as_unavailable(signing_key):
    authority = "http://127.0.0.1:9"  # discard port: nothing listens

    error = refusal(bearer(sign(claims_for(authority), signing_key)), settings_for(authority))

    assert error.status == 503
    assert error.code == "auth_unavailable"


def test_a_key_endpoint_serving_no_keys_is_reported_as_unavailable(httpserver, authority, signing_key):
    httpserver.expect_request(KEYS_PATH).respond_with_json({"keys": []})

    assert refusal(bearer(sign(claims_for(authority), signing_key)), settings_for(authority)).status == 503


def test_a_hanging_key_endpoint_is_given_up_on(httpserver, authority, signing_key, monkeypatch):
    monkeypatch.setattr(entra, "JWKS_TIMEOUT_SECONDS", 0.2)

    def hang(request: Request) -> Response:
        time.sleep(1.0)
        return Response("{}", content_type="application/json")

    httpserver.expect_request(KEYS_PATH).respond_with_handler(hang)
    started = time.monotonic()

    error = refusal(bearer(sign(claims_for(authority), signing_key)), settings_for(authority))

    assert error.code == "auth_unavailable"
    assert time.monotonic() - started < 0.9


# --- secrecy ------------------------------------------------------------------------------------------


def test_the_token_never_appears_in_errors_or_logs(
    authority, key_endpoint, signing_key, attacker_key, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    now = int(time.time())
    tokens = [
        sign(claims_for(authority, aud="api://other"), signing_key),
        sign(claims_for(authority, exp=now - 600, iat=now - 4000, nbf=now - 4000), signing_key),
        sign(claims_for(authority), attacker_key),
        sign(claims_for(authority), attacker_key, kid="made-up"),
        sign(claims_for(authority, roles=[]), signing_key),
        sign(claims_for(authority, oid=None), signing_key),
        "not.a-real.token-but-secret",
    ]
    for token in tokens:
        error = refusal(bearer(token), settings_for(authority, AUTH_REQUIRED_ROLE=ROLE))
        for text in (str(error), error.message, repr(error.args), *error.headers.values()):
            assert token not in text
            assert token.split(".")[-1] not in text
        assert error.__cause__ is None
        assert token not in caplog.text


# --- helpers ------------------------------------------------------------------------------------------


def _public_jwk(kid: str, key: rsa.RSAPublicKey) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key, as_dict=True)
    return {**jwk, "kid": kid, "use": "sig"}


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _signing_input(header: dict[str, Any], claims: dict[str, Any]) -> bytes:
    return _b64(json.dumps(header).encode()) + b"." + _b64(json.dumps(claims).encode())


def _hand_made_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
    """PyJWT will not sign these (rightly), so they are assembled by hand, as an attacker would."""
    return (_signing_input(header, claims) + b"." + _b64(signature)).decode()
