"""Entra ID bearer tokens for the D365-facing routes.

A control in the agent's browser cannot keep a secret, so it signs in with MSAL and sends an access token
for our API; we check it here, in code, against the tenant's published signing keys.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import jwt
from jwt.exceptions import (
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenError,
    MissingRequiredClaimError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKSetError,
    PyJWTError,
)

from shared.config import Settings

log = logging.getLogger(__name__)

AuthErrorCode = Literal["unauthenticated", "forbidden", "auth_not_configured", "auth_unavailable"]

# Entra signs access tokens with RS256 only; accepting anything else invites `none` and key-confusion tricks.
ALGORITHMS = ["RS256"]
# Clocks of the token service and the function host drift a little; a minute is the usual allowance.
LEEWAY_SECONDS = 60
# A hung key endpoint must not hold the agent's request for the host's whole function timeout.
JWKS_TIMEOUT_SECONDS = 5.0
# Entra publishes new keys well before signing with them, and an unknown `kid` refetches anyway,
# so the key set can be kept a while: fewer calls to the key endpoint, and fewer failures when it is down.
JWKS_CACHE_SECONDS = 3600.0
# At most one refetch per this many seconds for an unknown `kid`: forged `kid`s must not make every
# request a call to the key endpoint. A genuinely new key waits at most this long after the last fetch.
JWKS_REFRESH_COOLDOWN_SECONDS = 30.0
V1_ISSUER = "https://sts.windows.net/{tenant}/"


@dataclass(frozen=True)
class Principal:
    """Who called: enough to attribute a message (`sentBy`) and to check app roles."""

    object_id: str
    tenant_id: str
    name: str | None
    roles: tuple[str, ...]


LOCAL_PRINCIPAL = Principal(object_id="local-developer", tenant_id="local", name="Local developer", roles=())


class AuthError(Exception):
    """A refusal the API turns into its error body; the message is safe to show (it never holds the token)."""

    def __init__(self, status: int, code: AuthErrorCode, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code: AuthErrorCode = code
        self.message = message
        self.headers: dict[str, str] = headers if headers is not None else {}

    @classmethod
    def no_credentials(cls, message: str) -> AuthError:
        # RFC 6750 3.1: a request without a bearer token gets the challenge but no error code.
        return cls(401, "unauthenticated", message, {"WWW-Authenticate": "Bearer"})

    @classmethod
    def invalid_token(cls, message: str) -> AuthError:
        return cls(401, "unauthenticated", message, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def authenticate(authorization: str | None, settings: Settings) -> Principal:
    """The caller of a D365-facing route, from its `Authorization` header; raises AuthError to refuse."""
    if settings.AUTH_DISABLED:
        if settings.runs_in_azure:
            # Only the local host may skip sign-in: in Azure it would open every conversation to anyone.
            raise AuthError(
                503,
                "auth_not_configured",
                "Sign-in cannot be disabled in Azure: remove AUTH_DISABLED and set AUTH_TENANT_ID and "
                "AUTH_AUDIENCE.",
            )
        return LOCAL_PRINCIPAL
    audiences = tuple(settings.auth_audiences)
    if not settings.AUTH_TENANT_ID.strip() or not audiences:
        raise AuthError(
            503,
            "auth_not_configured",
            "Sign-in is not configured: set AUTH_TENANT_ID and AUTH_AUDIENCE (AUTH_DISABLED for local use).",
        )
    tenant = _canonical_guid(settings.AUTH_TENANT_ID)
    if tenant is None:
        # Tokens carry the tenant's GUID; a domain name here would refuse every token as "another tenant".
        raise AuthError(
            503, "auth_not_configured", "AUTH_TENANT_ID must be the tenant's directory ID (a GUID)."
        )

    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError.no_credentials("Sign in required: send 'Authorization: Bearer <access token>'.")

    validator = _validator_for(
        tenant, audiences, settings.AUTH_REQUIRED_ROLE.strip(), settings.AUTH_AUTHORITY.strip().rstrip("/")
    )
    return validator.validate(token)


def reset() -> None:
    """Forget cached validators and their keys (tests change settings and key endpoints between cases)."""
    _validator_for.cache_clear()


def _canonical_guid(value: str) -> str | None:
    """Lower case with hyphens, as Entra writes it in `tid` and the issuer, however the setting was typed."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _validator_for(tenant: str, audiences: tuple[str, ...], role: str, authority: str) -> _TokenValidator:
    """One validator per configuration, kept across requests so its key cache is too."""
    jwks = jwt.PyJWKClient(
        f"{authority}/{tenant}/discovery/v2.0/keys",
        cache_jwk_set=True,
        lifespan=JWKS_CACHE_SECONDS,
        timeout=JWKS_TIMEOUT_SECONDS,
        cooldown_duration=JWKS_REFRESH_COOLDOWN_SECONDS,
    )
    issuers = (f"{authority}/{tenant}/v2.0", V1_ISSUER.format(tenant=tenant))
    return _TokenValidator(tenant, audiences, role, issuers, jwks)


@dataclass(frozen=True)
class _TokenValidator:
    tenant: str
    audiences: tuple[str, ...]
    required_role: str
    issuers: tuple[str, ...]
    jwks: jwt.PyJWKClient

    def validate(self, token: str) -> Principal:
        claims = self._verified_claims(token)
        if claims.get("tid") != self.tenant:
            raise AuthError.invalid_token("The token was issued for another tenant.")
        object_id = claims.get("oid")
        if not isinstance(object_id, str) or not object_id:
            raise AuthError.invalid_token("The token does not identify a user or app (no 'oid' claim).")
        raw_roles = claims.get("roles")
        roles = tuple(r for r in raw_roles if isinstance(r, str)) if isinstance(raw_roles, list) else ()
        if self.required_role and self.required_role not in roles:
            raise AuthError(
                403, "forbidden", f"The signed-in account does not hold the app role '{self.required_role}'."
            )
        name = claims.get("name") or claims.get("preferred_username")
        return Principal(
            object_id=object_id,
            tenant_id=self.tenant,
            name=name if isinstance(name, str) else None,
            roles=roles,
        )

    def _verified_claims(self, token: str) -> dict[str, Any]:
        # Exceptions are re-raised `from None`: nothing of the token should travel on in a traceback.
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError:
            raise AuthError.invalid_token("The bearer token is not a well-formed JWT.") from None
        # Refuse before any network call: a forged token should not cost us a key fetch.
        if header.get("alg") not in ALGORITHMS:
            raise AuthError.invalid_token("The token is not signed with RS256.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError.invalid_token("The token does not name its signing key ('kid').")

        key = self._signing_key(kid)
        try:
            return jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=list(self.audiences),
                issuer=self.issuers,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "aud", "iss"]},
            )
        except InvalidTokenError as exc:
            raise AuthError.invalid_token(_reason(exc)) from None

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        try:
            # Errors here are the key endpoint's (down, or serving no usable keys): ours, not the caller's.
            self.jwks.get_signing_keys()
        except (PyJWKClientError, PyJWKSetError) as exc:
            log.warning("Entra signing keys unavailable from %s: %s", self.jwks.uri, exc)
            raise AuthError(
                503,
                "auth_unavailable",
                "Sign-in cannot be checked right now: the signing keys are unavailable.",
            ) from exc
        try:
            # An unknown `kid` refetches the set once (key rotation) before giving up.
            return self.jwks.get_signing_key(kid)
        except PyJWKClientConnectionError as exc:
            log.warning("Entra signing keys unavailable from %s: %s", self.jwks.uri, exc)
            raise AuthError(
                503,
                "auth_unavailable",
                "Sign-in cannot be checked right now: the signing keys are unavailable.",
            ) from exc
        except (PyJWKClientError, PyJWKSetError):
            raise AuthError.invalid_token(
                "The token is signed with a key this tenant does not publish."
            ) from None


def _reason(exc: InvalidTokenError) -> str:
    """A message for the caller; PyJWT's own texts are terse, so say which check failed."""
    if isinstance(exc, ExpiredSignatureError):
        return "The token has expired; sign in again."
    if isinstance(exc, InvalidAudienceError):
        return "The token is for another API (audience mismatch)."
    if isinstance(exc, InvalidIssuerError):
        return "The token was issued by another tenant or authority."
    if isinstance(exc, ImmatureSignatureError):
        return "The token is not valid yet (check the clock)."
    if isinstance(exc, InvalidSignatureError):
        return "The token's signature does not verify."
    if isinstance(exc, InvalidAlgorithmError):
        return "The token is not signed with RS256."
    if isinstance(exc, MissingRequiredClaimError):
        return f"The token lacks the '{exc.claim}' claim."
    return "The bearer token is invalid."
