"""A small OpenID Connect provider for tests, on 127.0.0.1 (uvicorn in a thread): discovery, authorize (signs
in `user_claims` at once), token (an RS256 ID token with the nonce it was given), JWKS. `mode` breaks its
answers the ways a real provider (or an attacker in the middle) could: "garbage" (an ID token that is not a
JWT), "wrong_key" (signed by another key), "wrong_audience", "no_email"."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from authlib.jose import JsonWebKey, jwt
from smtp_server import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


class OidcStub:
    def __init__(self, client_id: str = "reporting-portal") -> None:
        self.client_id = client_id
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "stub-1"})
        self.other_key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "stub-1"})
        self.user_claims: dict[str, Any] = {"sub": "u-1", "email": "approver@example.nhs.uk"}
        self.mode = "ok"
        self.codes: dict[str, str] = {}  # code -> nonce

    def app(self) -> Starlette:
        async def discovery(_: Request) -> Response:
            return JSONResponse(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )

        async def authorize(request: Request) -> Response:
            q = request.query_params
            code = secrets.token_urlsafe(12)
            self.codes[code] = q.get("nonce", "")
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

        async def token(request: Request) -> Response:
            form = await request.form()
            nonce = self.codes.pop(str(form.get("code")), None)
            if nonce is None:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "aud": "someone-else" if self.mode == "wrong_audience" else self.client_id,
                "iat": now,
                "exp": now + 300,
                "nonce": nonce,
                **self.user_claims,
            }
            if self.mode == "no_email":
                claims.pop("email", None)
            key = self.other_key if self.mode == "wrong_key" else self.key
            id_token = (
                "not-a-jwt"
                if self.mode == "garbage"
                else jwt.encode({"alg": "RS256", "kid": "stub-1"}, claims, key).decode()
            )
            return JSONResponse({"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})

        async def jwks(_: Request) -> Response:
            return JSONResponse({"keys": [self.key.as_dict(is_private=False)]})

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
                Route("/jwks", jwks),
            ]
        )


@contextmanager
def running(stub: OidcStub) -> Iterator[OidcStub]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(stub.app(), host="127.0.0.1", port=stub.port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield stub
    finally:
        server.should_exit = True
        thread.join(10)
