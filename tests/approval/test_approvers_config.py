"""`approval: {approvers: [...]}` names users of the project: anything else is a ConfigError at the approver's
file:line:column, saying who may approve."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from approval_fixtures import ADMIN, ANALYST, APPROVER, BOARD, DEPUTY

from reporting.approval import load_users
from reporting.errors import ConfigError
from reporting.packs.template_load import load_template
from reporting.project import Project
from reporting.schedule.runner import load_project_schedules


def test_a_job_approver_not_in_the_user_list_is_an_error_at_its_place(
    approval_project: Callable[..., Project],
) -> None:
    project = approval_project(BOARD.replace(DEPUTY, "deputy.secretry@example.nhs.uk"))
    with pytest.raises(ConfigError) as caught:
        load_project_schedules(project)
    error = caught.value
    text = (project.root / "schedules.yaml").read_text().splitlines()
    assert str(error.file).endswith("schedules.yaml") and error.field == "jobs[0].approval.approvers[1]"
    assert error.line is not None and error.column is not None
    assert text[error.line - 1][error.column - 1 :].startswith("deputy.secretry@example.nhs.uk")
    assert f"did you mean '{DEPUTY}'" in str(error) and f"users who may approve: {ADMIN}, {APPROVER}, {DEPUTY}" in str(
        error
    )


def test_a_template_approver_must_have_the_approver_role(approval_project: Callable[..., Project]) -> None:
    project = approval_project()
    path = project.root / "templates" / "packs" / "weekly-executive.yaml"
    path.write_text(path.read_text() + f"approval:\n  approvers:\n    - {APPROVER}\n    - {ANALYST}\n")
    with pytest.raises(ConfigError) as caught:
        load_template(project.root, "weekly-executive")
    error = caught.value
    assert error.file == path and error.field == "approval.approvers[1]"
    assert path.read_text().splitlines()[error.line - 1][error.column - 1 :] == ANALYST  # type: ignore[operator]
    assert "has the role(s) analyst; an approver needs approver or admin" in str(error)


def test_without_a_user_list_no_one_can_approve(approval_project: Callable[..., Project]) -> None:
    project = approval_project(users=None)
    with pytest.raises(ConfigError, match="is not a user: the project has no users.yaml"):
        load_project_schedules(project)


def test_the_user_list_holds_no_secrets(approval_project: Callable[..., Project]) -> None:
    project = approval_project()
    users = project.root / "users.yaml"
    users.write_text(users.read_text().replace("    name: Board Secretary\n", "    password: hunter2\n"))
    with pytest.raises(ConfigError, match="'password' never goes in users.yaml") as caught:
        load_users(project.root)
    assert caught.value.line == 3 and "hunter2" not in str(caught.value)
    users.write_text(
        users.read_text().replace("    password: hunter2\n", "").replace("[approver]", "[approver, boss]", 1)
    )
    with pytest.raises(
        ConfigError,
        match=r"users.yaml:3:23, field 'users\[0\].roles\[1\]': expected one of 'viewer', 'analyst', 'approver' or 'admin'; got 'boss'",
    ):
        load_users(project.root)
