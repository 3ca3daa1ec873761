"""Sign-in with OpenID Connect through authlib (authorization code flow, the provider's discovery document,
ID token checked against its keys, issuer, audience and nonce). The signed-in address comes from the claim
`users.yaml oidc.claim` names and must be a user of users.yaml, which gives the roles and organisations:
the provider says who someone is, never what they may do."""

from __future__ import annotations

import os
from typing import Any

from starlette.requests import Request

from reporting.approval import OidcOptions, User, Users
from reporting.errors import ReportingError

__all__ = ["SECRET_ENV", "OidcSignIn"]

SECRET_ENV = "REPORTING_OIDC_CLIENT_SECRET"


class OidcFailed(ReportingError):
    """The provider's answer could not be used: the page says why, and nobody is signed in."""


class OidcSignIn:
    def __init__(self, options: OidcOptions) -> None:
        from authlib.integrations.starlette_client import OAuth

        self.options = options
        self.oauth = OAuth()
        self.oauth.register(
            "provider",
            client_id=options.client_id,
            client_secret=os.environ.get(SECRET_ENV),
            server_metadata_url=options.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile"},
        )

    async def start(self, request: Request, callback: str) -> Any:
        try:
            return await self.oauth.provider.authorize_redirect(request, callback)
        except Exception as exc:  # noqa: BLE001 - an unreachable or malformed discovery document
            raise OidcFailed(f"the sign-in provider {self.options.issuer} cannot be used: {_why(exc)}") from exc

    async def finish(self, request: Request, users: Users) -> User:
        from authlib.integrations.starlette_client import OAuthError

        if "error" in request.query_params:
            raise OidcFailed(f"the provider refused the sign-in: {request.query_params.get('error')}")
        try:
            token = await self.oauth.provider.authorize_access_token(request)
        except OAuthError as exc:
            raise OidcFailed(f"the provider's answer was refused: {exc.description or exc.error}") from exc
        except Exception as exc:  # noqa: BLE001 - a malformed ID token, a wrong signature, a bad JSON body
            raise OidcFailed(f"the provider's answer could not be read: {_why(exc)}") from exc
        claims = token.get("userinfo") if isinstance(token, dict) else None
        address = claims.get(self.options.claim) if isinstance(claims, dict) else None
        if not isinstance(address, str) or "@" not in address:
            raise OidcFailed(f"the provider's ID token has no address in its '{self.options.claim}' claim")
        user = users.get(address)
        if user is None:
            raise OidcFailed(f"{address} signed in, but is not a user of this portal (users.yaml)")
        return user


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
