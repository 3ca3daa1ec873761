"""Sign-in with OpenID Connect (authlib) against a local provider stub on 127.0.0.1: a user of users.yaml is
signed in with their roles; someone the provider knows but users.yaml does not, a malformed ID token, one
signed by another key and one for another audience are each a clear message on the sign-in page, and nobody
is signed in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from oidc_stub import OidcStub, running
from starlette.testclient import TestClient

from reporting.portal.app import create_app
from reporting.project import Project

APPROVER = "approver@example.nhs.uk"


@pytest.fixture
def stub() -> Iterator[OidcStub]:
    with running(OidcStub()) as provider:
        yield provider


def _project(tmp_path: Path, stub: OidcStub) -> Project:
    root = tmp_path / "project"
    (root / "templates" / "packs").mkdir(parents=True)
    (root / "users.yaml").write_text(
        f"oidc:\n  issuer: {stub.issuer}\n  client_id: {stub.client_id}\n  label: NHS mail\n"
        f"users:\n  - email: {APPROVER}\n    roles: [approver]\n    orgs: ['*']\n"
    )
    return Project(root)


def _sign_in(client: TestClient) -> httpx.Response:
    """Follow the flow by hand: the portal's redirect to the provider, the provider's back to the portal."""
    start = client.get("/login/oidc")
    assert start.status_code == 302, start.text
    to_provider = start.headers["location"]
    assert to_provider.startswith("http://127.0.0.1:") and "nonce=" in to_provider and "state=" in to_provider
    back = httpx.get(to_provider, follow_redirects=False)
    assert back.status_code == 302
    callback = httpx.URL(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query.decode()}")


def test_a_user_signs_in_with_the_provider(tmp_path: Path, stub: OidcStub) -> None:
    client = TestClient(create_app(_project(tmp_path, stub), secure_cookies=False), follow_redirects=False)
    assert "Sign in with NHS mail" in client.get("/login").text
    done = _sign_in(client)
    assert done.status_code == 303 and done.headers["location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and f"{APPROVER} (approver)" in page.text


@pytest.mark.parametrize(
    ("mode", "claims", "message"),
    [
        ("ok", {"email": "stranger@example.nhs.uk"}, "stranger@example.nhs.uk signed in, but is not a user"),
        ("garbage", {}, "the provider&#39;s answer could not be read"),
        ("wrong_key", {}, "the provider&#39;s answer could not be read"),
        ("wrong_audience", {}, "the provider&#39;s answer could not be read"),
        ("no_email", {}, "has no address in its &#39;email&#39; claim"),
    ],
)
def test_a_bad_answer_signs_nobody_in(
    tmp_path: Path, stub: OidcStub, mode: str, claims: dict[str, str], message: str
) -> None:
    stub.mode = mode
    stub.user_claims.update(claims)
    client = TestClient(create_app(_project(tmp_path, stub), secure_cookies=False), follow_redirects=False)
    done = _sign_in(client)
    assert done.status_code == 401 and message in done.text, done.text[-800:]
    assert client.get("/").status_code == 303  # still signed out


def test_an_unreachable_provider_is_said_on_the_page(tmp_path: Path, stub: OidcStub) -> None:
    project = _project(tmp_path, stub)
    users = project.root / "users.yaml"
    users.write_text(users.read_text().replace(stub.issuer, "http://127.0.0.1:9"))
    client = TestClient(create_app(project, secure_cookies=False), follow_redirects=False)
    response = client.get("/login/oidc")
    assert response.status_code == 502 and "cannot be used" in response.text
