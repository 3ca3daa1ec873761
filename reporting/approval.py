"""Approval before distribution: who may sign a pack off (`approval: {approvers: [...]}` in a pack template or a
job), the project's user list they must be in, and what a build knows of its approval.

A leaf module, so packs (which mark drafts), schedule (which holds the decisions in the history database and
withholds the distribution) and the commands can all read the one definition.

A pack that needs approval is a *draft* until its content hash is approved: the hash is the build's
`inputs_sha256` (data snapshot, template, parameters; packs.publish.inputs_hash), so a rebuild from the same
inputs keeps its approval and one from other data or another template needs a new one. The draft and the
approved pack are made from the same inputs: approving re-renders without the mark, and the numbers cannot
change between the two.

The user list is `users.yaml` in the project: names, addresses, roles and organisations, never a secret
(local passwords' hashes live in `.reporting/passwords`, a file the portal writes).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reporting._yaml import Located, _dotted, load_yaml, raise_validation_error
from reporting.errors import ConfigError

__all__ = [
    "DRAFT_TEXT",
    "ROLES",
    "ApprovalOptions",
    "ApprovalState",
    "OidcOptions",
    "User",
    "Users",
    "check_approvers",
    "load_users",
    "users_file",
]

DRAFT_TEXT = "DRAFT – not for circulation"
Role = Literal["viewer", "analyst", "approver", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "analyst", "approver", "admin")
SIGNERS = frozenset({"approver", "admin"})  # the roles that may approve or reject


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovalOptions(_Model):
    """`approval:` in a pack template or a job: the people (addresses in users.yaml) who sign the pack off."""

    approvers: list[str] = Field(
        min_length=1, description="addresses of users with the approver or admin role (users.yaml)"
    )


class User(_Model):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = ""
    roles: list[Role] = Field(min_length=1, description="viewer, analyst, approver, admin")
    orgs: list[str] = Field(
        default_factory=list,
        description="organisation codes this user may see; '*' for all (the same rule as bursting)",
    )


class OidcOptions(_Model):
    """Sign-in with OpenID Connect (Entra ID: issuer https://login.microsoftonline.com/<tenant>/v2.0). The
    client secret comes only from the environment variable REPORTING_OIDC_CLIENT_SECRET."""

    issuer: str = Field(pattern=r"^https?://\S+$", description="the provider's issuer URL (its discovery document)")
    client_id: str = Field(min_length=1)
    claim: str = Field("email", description="the ID-token claim holding the user's address (Entra: preferred_username)")
    label: str = Field("your organisation's account", description="what the sign-in button says")


class Users(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: str | None = Field(None, alias="$schema")
    users: list[User] = Field(default_factory=list)
    oidc: OidcOptions | None = None

    def get(self, email: str) -> User | None:
        return next((u for u in self.users if u.email.lower() == email.lower()), None)


def users_file(project: Path) -> Path:
    return Path(project) / "users.yaml"


def load_users(project: Path) -> tuple[Users, Located | None]:
    """The project's users (none without a users.yaml) and the document, for error locations."""
    path = users_file(project)
    if not path.exists():
        return Users.model_validate({}), None
    doc = load_yaml(path)
    for i, entry in enumerate(doc.data.get("users", []) if isinstance(doc.data, dict) else []):
        for key in entry if isinstance(entry, dict) else ():
            if str(key).lower() in {"password", "password_hash", "secret", "token"}:
                raise ConfigError(
                    f"'{key}' never goes in users.yaml; set a local password with 'reporting serve "
                    "--set-password EMAIL' (its hash is kept in .reporting/passwords)",
                    file=doc.file,
                    line=doc.line_of(("users", i, key)),
                    field=_dotted(("users", i, key)),
                )
    try:
        users = Users.model_validate(doc.data if doc.data is not None else {})
    except ValidationError as exc:
        raise_validation_error(exc, doc, {*Users.model_fields, *User.model_fields, *OidcOptions.model_fields, *ROLES})
        raise  # unreachable
    seen: dict[str, int] = {}
    for i, user in enumerate(users.users):
        if user.email.lower() in seen:
            raise ConfigError(
                f"user {user.email} is listed twice (first as user {seen[user.email.lower()] + 1})",
                file=doc.file,
                line=doc.line_of(("users", i, "email")),
                field=_dotted(("users", i, "email")),
            )
        seen[user.email.lower()] = i
    return users, doc


def check_approvers(options: ApprovalOptions | None, doc: Located, where: tuple[str | int, ...], project: Path) -> None:
    """Every approver must be a user of the project with the approver or admin role; the error names the
    approver's place in `doc` (file:line:column) and the users who could sign."""
    if options is None:
        return
    users, _ = load_users(project)
    signers = sorted(u.email for u in users.users if SIGNERS & set(u.roles))
    for k, email in enumerate(options.approvers):
        path = (*where, "approvers", k)
        user = users.get(email)
        if user is not None and SIGNERS & set(user.roles):
            continue
        if user is not None:
            why = f"user {email} has the role(s) {', '.join(user.roles)}; an approver needs approver or admin"
        elif not users.users:
            why = f"approver {email} is not a user: the project has no {users_file(project).name}"
        else:
            close = difflib.get_close_matches(email, signers, n=1)
            why = f"approver {email} is not in {users_file(project).name}" + (
                f" (did you mean '{close[0]}'?)" if close else ""
            )
        raise ConfigError(
            f"{why}; users who may approve: {', '.join(signers) or 'none'}",
            file=doc.file,
            line=doc.line_of(path),
            field=_dotted(path),
        )


@dataclass(frozen=True)
class ApprovalState:
    """What a build needs to know of approval (picklable: it travels with the batch to parallel workers).

    `approvers` is empty when the pack needs no approval; `decided` holds, per content hash, its audit trail
    (oldest first) and whether it was approved, read from the history database by the caller."""

    approvers: tuple[str, ...] = ()
    decided: Mapping[str, tuple[bool, tuple[Mapping[str, str], ...]]] = field(default_factory=dict)

    def is_draft(self, content_hash: str) -> bool:
        return bool(self.approvers) and not self.decided.get(content_hash, (False, ()))[0]

    def manifest(self, content_hash: str) -> dict[str, object] | None:
        """The manifest's `approval` entry: status, approvers, the hash approved and the audit trail."""
        if not self.approvers:
            return None
        approved, trail = self.decided.get(content_hash, (False, ()))
        return {
            "status": "approved" if approved else "draft",
            "approvers": list(self.approvers),
            "content_sha256": content_hash,
            "trail": [dict(event) for event in trail],
        }
