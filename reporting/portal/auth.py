"""Who is signed in, what their role lets them do, and the secrets the portal keeps out of YAML.

Local accounts: users.yaml (reporting.approval.Users) says who exists, with roles and organisations; their
password hashes (argon2id) live in `.reporting/passwords`, one `address<TAB>hash` a line, mode 0600, written
by `reporting serve --set-password`. The session cookie is signed with a key from REPORTING_PORTAL_SECRET or
`.reporting/portal-secret` (made once, 0600). With no users configured the portal is open to whoever can
reach it, so `reporting serve` binds only to loopback then (commands/serve.py) and every page says so.

CSRF: every form carries the session's token (`csrf_token`), and every POST is refused without it
(`check_csrf`), compared in constant time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from reporting.approval import User, Users, load_users
from reporting.files import atomic_write

__all__ = [
    "LOCAL_ADMIN",
    "Account",
    "can",
    "check_csrf",
    "csrf_token",
    "new_api_token",
    "portal_secret",
    "set_password",
    "token_user",
    "verify_password",
]

SECRET_ENV = "REPORTING_PORTAL_SECRET"
#: what each action needs (a role includes the ones before it: viewer < analyst < approver < admin)
NEEDS = {"view": "viewer", "history": "analyst", "preview": "analyst", "decide": "approver", "operate": "admin"}
RANK = {"viewer": 0, "analyst": 1, "approver": 2, "admin": 3}
LOCAL_ADMIN = User(email="local@localhost", name="this machine (no one can sign in yet)", roles=["admin"], orgs=["*"])


@dataclass(frozen=True)
class Account:
    """The signed-in user, or the local admin when the project has no users (open mode)."""

    user: User
    open_mode: bool = False

    def sees(self, org: str | None) -> bool:
        """Organisation scoping, the rule of bursting: a user sees only the organisations granted; a pack of
        no organisation only with '*'."""
        return "*" in self.user.orgs or (org is not None and org in self.user.orgs)


def can(account: Account | None, action: str) -> bool:
    if account is None:
        return False
    return max(RANK[r] for r in account.user.roles) >= RANK[NEEDS[action]]


def _private(project: Path) -> Path:
    folder = Path(project) / ".reporting"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def portal_secret(project: Path) -> str:
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = _private(project) / "portal-secret"
    if not path.exists():
        atomic_write(path, secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _passwords(project: Path) -> dict[str, str]:
    path = _private(project) / "passwords"
    if not path.exists():
        return {}
    pairs = (line.split("\t", 1) for line in path.read_text().splitlines() if "\t" in line)
    return {email.lower(): digest for email, digest in pairs}


def can_sign_in(project: Path, users: Users) -> bool:
    """Whether anyone of users.yaml can sign in: a provider is configured, or a user has a local password. Until
    then the portal is in open mode (loopback only, as with no users): a shipped users.yaml names the approvers
    of `approval:` before anyone has a password."""
    if not users.users:
        return False
    if users.oidc is not None:
        return True
    stored = _passwords(project)
    return any(u.email.lower() in stored for u in users.users)


def set_password(project: Path, email: str, password: str) -> None:
    """Store an argon2id hash of `password` for a user of users.yaml (never the password)."""
    from argon2 import PasswordHasher

    from reporting.errors import ReportingError

    users, _ = load_users(project)
    if users.get(email) is None:
        raise ReportingError(f"{email} is not in users.yaml; add the user there first (roles, organisations)")
    if len(password) < 12:
        raise ReportingError("a password needs at least 12 characters")
    stored = _passwords(project)
    stored[email.lower()] = PasswordHasher().hash(password)
    path = _private(project) / "passwords"
    atomic_write(path, "".join(f"{k}\t{v}\n" for k, v in sorted(stored.items())))
    path.chmod(0o600)


def verify_password(project: Path, users: Users, email: str, password: str) -> User | None:
    """The user, when `password` is theirs; the same work (one argon2 verify) whether or not they exist."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    hasher = PasswordHasher()
    digest = _passwords(project).get(email.strip().lower())
    user = users.get(email.strip())
    try:
        hasher.verify(digest or _dummy_hash(), password)
    except VerificationError:
        return None
    return user if digest and user else None


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the address has none, so a wrong address takes as long as a wrong password."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(secrets.token_urlsafe(16))


def new_api_token(project: Path, email: str) -> str:
    """A bearer token for the JSON API, acting as `email` (a user of users.yaml): shown once; only its sha256
    is kept, in .reporting/api-tokens (`address<TAB>sha256` a line, 0600)."""
    from reporting.errors import ReportingError

    users, _ = load_users(project)
    if users.get(email) is None:
        raise ReportingError(f"{email} is not in users.yaml; add the user there first (roles, organisations)")
    token = "rpt_" + secrets.token_urlsafe(32)
    path = _private(project) / "api-tokens"
    old = path.read_text() if path.exists() else ""
    atomic_write(path, old + f"{email}\t{hashlib.sha256(token.encode()).hexdigest()}\n")
    path.chmod(0o600)
    return token


def token_user(project: Path, users: Users, header: str | None) -> User | None:
    """The user an `Authorization: Bearer <token>` header acts as, if the token is one of ours."""
    if not header or not header.lower().startswith("bearer "):
        return None
    digest = hashlib.sha256(header[7:].strip().encode()).hexdigest()
    path = _private(project) / "api-tokens"
    for line in path.read_text().splitlines() if path.exists() else []:
        email, _, stored = line.partition("\t")
        if hmac.compare_digest(stored, digest):
            return users.get(email)
    return None


def csrf_token(session: dict[str, object]) -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf(session: dict[str, object], sent: object) -> bool:
    token = session.get("csrf")
    return isinstance(token, str) and isinstance(sent, str) and hmac.compare_digest(token, sent)
