"""The Board job waits for approval (issue 16): the draft goes only to its approvers, marked; `approve`
re-renders it without the mark from the same inputs and the recipients get the final paper exactly once.
Against a real aiosmtpd server (tests/smtp_server.py)."""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from approval_fixtures import APPROVER, BOARD, CHAIR, DEPUTY, MEMBER
from smtp_server import SmtpTestServer

from reporting.approval import DRAFT_TEXT
from reporting.errors import ReportingError
from reporting.project import Project
from reporting.schedule.approvals import StaleApproval, decide, latest_build
from reporting.schedule.history import AlreadyDecided, History
from reporting.schedule.runner import run_once

NO_SLEEP = lambda _: None  # noqa: E731
PERIOD = "2025-07"  # the demo data's latest month


def _marked(path: Path) -> bool:
    """The draft text anywhere in an Office file's parts (headers, slides, core properties)."""
    with zipfile.ZipFile(path) as z:
        return any(DRAFT_TEXT in z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml"))


def _attachments(smtp: SmtpTestServer, address: str) -> list[dict[str, bytes]]:
    return [
        {str(p.get_filename()): p.get_content() for p in m.message().iter_attachments()}
        for m in smtp.for_recipient(address)
    ]


def _approve(project: Project, manifest: dict, by: str = APPROVER, **kw: object) -> object:
    return decide(
        project,
        "board",
        period=manifest["period"],
        content_hash=kw.pop("content_hash", manifest["approval"]["content_sha256"][:12]),  # type: ignore[arg-type]
        by=by,
        comment=kw.pop("comment", "Checked against the committee papers"),  # type: ignore[arg-type]
        approved=kw.pop("approved", True),  # type: ignore[arg-type]
    )


def test_board_job_waits_for_approval_then_sends_the_final_paper_once(
    approval_project: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = approval_project()
    report = run_once(project, "board", sleep=NO_SLEEP)
    assert report.ok and sorted(report.held) == [CHAIR, MEMBER] and sorted(report.sent) == [APPROVER, DEPUTY]
    assert not smtp.for_recipient(CHAIR) and not smtp.for_recipient(MEMBER)  # the distribution list waits
    (draft_mail,) = smtp.for_recipient(APPROVER)
    assert str(draft_mail.message()["Subject"]).startswith(DRAFT_TEXT)
    assert "reporting approve board" in draft_mail.message().get_body(("plain",)).get_content()  # type: ignore[union-attr]
    (files,) = _attachments(smtp, APPROVER)
    assert sorted(files) == [f"board-{report.period}-RJ1.docx", f"board-{report.period}-RJ1.pptx"]
    folder, manifest = latest_build(project, "board", PERIOD, "RJ1")
    assert manifest["approval"]["status"] == "draft" and all(_marked(folder / f["name"]) for f in manifest["files"])
    assert [e["action"] for e in History.open(project.root).approval_trail("board")] == ["requested"]

    again = run_once(project, "board", sleep=NO_SLEEP)  # the daemon's next run: nothing new to anyone
    assert sorted(again.already) == [APPROVER, DEPUTY] and len(smtp.messages) == 2

    decision = _approve(project, manifest)
    assert decision.report is not None and sorted(decision.report.sent) == [CHAIR, MEMBER]  # type: ignore[attr-defined]
    for address in (CHAIR, MEMBER):
        (final,) = _attachments(smtp, address)
        assert sorted(final) == sorted(files)
        for name, data in final.items():
            tmp = project.root / f"received-{name}"
            tmp.write_bytes(data)
            assert not _marked(tmp), name  # the final paper carries no draft marking
    folder, approved = latest_build(project, "board", PERIOD, "RJ1")
    assert approved["approval"]["status"] == "approved"
    assert approved["approval"]["content_sha256"] == manifest["approval"]["content_sha256"]  # same inputs
    trail = approved["approval"]["trail"]
    assert [(e["action"], e["by"]) for e in trail] == [("requested", "job board"), ("approved", APPROVER)]
    assert trail[1]["comment"] == "Checked against the committee papers" and trail[1]["at"]

    sent = len(smtp.messages)
    double = _approve(project, manifest)  # a double click
    assert double.already and len(smtp.messages) == sent  # type: ignore[attr-defined]
    with pytest.raises(ReportingError, match=f"already approved by {APPROVER}"):
        _approve(project, manifest, by=DEPUTY)
    rerun = run_once(project, "board", sleep=NO_SLEEP)  # same content: keeps its approval, sends nothing again
    assert sorted(rerun.already) == [CHAIR, MEMBER] and not rerun.sent and len(smtp.messages) == sent
    assert latest_build(project, "board", PERIOD, "RJ1")[1]["approval"]["status"] == "approved"


def test_bad_approvals_are_refused_and_send_nothing(
    approval_project: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = approval_project()
    run_once(project, "board", sleep=NO_SLEEP)
    _, manifest = latest_build(project, "board", PERIOD, "RJ1")
    sent = len(smtp.messages)
    with pytest.raises(ReportingError, match="is not the latest build of board"):
        _approve(project, manifest, content_hash="0123456789ab")
    with pytest.raises(ReportingError, match="is not an approver of board"):
        _approve(project, manifest, by="analyst@example.nhs.uk")
    with pytest.raises(ReportingError, match="needs a comment"):
        _approve(project, manifest, approved=False, comment=" ")
    rejected = _approve(project, manifest, approved=False, comment="Page 3: the narrative contradicts the chart")
    assert not rejected.approved  # type: ignore[attr-defined]
    with pytest.raises(ReportingError, match=f"already rejected by {APPROVER}"):
        _approve(project, manifest, by=DEPUTY)
    assert len(smtp.messages) == sent and not smtp.for_recipient(CHAIR)
    assert latest_build(project, "board", PERIOD, "RJ1")[1]["approval"]["status"] == "draft"


def test_a_changed_template_needs_approval_again(
    approval_project: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    """Approving a draft whose template changed since: the rebuild's content differs, so it is not released."""
    project = approval_project()
    run_once(project, "board", sleep=NO_SLEEP)
    _, draft = latest_build(project, "board", PERIOD, "RJ1")
    path = project.root / "templates" / "packs" / "board.yaml"
    path.write_text(path.read_text().replace("Integrated Performance Report: Board paper", "Board paper (revised)"))
    with pytest.raises(StaleApproval, match="template changed since the approved build"):
        _approve(project, draft)
    assert not smtp.for_recipient(CHAIR) and not smtp.for_recipient(MEMBER)
    _, now = latest_build(project, "board", PERIOD, "RJ1")
    assert (
        now["approval"]["status"] == "draft"
        and now["approval"]["content_sha256"] != draft["approval"]["content_sha256"]
    )
    assert History.open(project.root).pending_approvals()[-1]["content_hash"] == now["approval"]["content_sha256"]


def test_two_approvers_at_once_record_one_decision(tmp_path: Path) -> None:
    history = History.open(tmp_path)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def sign(by: str) -> None:
        barrier.wait()
        try:
            history.decide("board", "2025-08-01", "RJ1", "a" * 64, approved=True, by=by, comment="")
            results.append("ok")
        except AlreadyDecided as exc:
            results.append(f"refused: {exc}")

    threads = [threading.Thread(target=sign, args=(f"approver{i}@example.nhs.uk",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and sum(r.startswith("refused: " + "a" * 12) for r in results) == 3
    assert [e["action"] for e in history.approval_trail("board")] == ["approved"]


def test_manifest_json_is_the_published_record(approval_project: Callable[..., Project]) -> None:
    """The draft's manifest names its approvers and hash; BOARD is the job this module's tests use."""
    project = approval_project()
    run_once(project, "board", dry_run=True, sleep=NO_SLEEP)
    folder, manifest = latest_build(project, "board", PERIOD, "RJ1")
    assert json.loads((folder / "manifest.json").read_text())["approval"]["approvers"] == [APPROVER, DEPUTY]
    assert "approvers: [" in BOARD


def test_the_approve_command(approval_project: Callable[..., Project], smtp: SmtpTestServer) -> None:
    from typer.testing import CliRunner

    from reporting.cli import app

    project = approval_project()
    run_once(project, "board", sleep=NO_SLEEP)
    _, manifest = latest_build(project, "board", PERIOD, "RJ1")
    digest = manifest["approval"]["content_sha256"][:12]
    runner = CliRunner()
    base = ["--project", str(project.root)]
    queue = runner.invoke(app, [*base, "approvals", "board"])
    assert queue.exit_code == 0 and digest in queue.output and "requested" in queue.output
    args = [*base, "approve", "board", "--period", PERIOD, "--hash", digest, "--by", APPROVER, "--comment", "ok"]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert f"approved board {manifest['period']} RJ1 ({digest}) by {APPROVER}" in done.output
    assert "released: sent 2, already had it 0, failed 0" in done.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "was already approved" in again.output
    assert len(smtp.for_recipient(CHAIR)) == 1 and len(smtp.for_recipient(MEMBER)) == 1
