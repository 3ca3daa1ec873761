"""Snapshots: content-addressed, immutable, read back identical, and untouched by a failed pull."""

from __future__ import annotations

import pandas as pd
import pytest
from project_fixtures import BASIC_CSV, MakeProject

from reporting.data.catalogue import load_catalogue
from reporting.data.load import pull
from reporting.data.snapshot import content_hash, latest_snapshot, read_snapshot
from reporting.errors import DataError


def test_pull_writes_a_snapshot_that_reads_back_identical(make_project: MakeProject) -> None:
    project = make_project()
    catalogue = load_catalogue(project.catalogue_file)
    dataset, snap = pull(catalogue, project.root, project.snapshots)
    assert len(snap.hash) == 16
    again = read_snapshot(project.snapshots, snap.hash)
    pd.testing.assert_frame_equal(again.metrics, snap.metrics)
    assert again.meta["metrics"]["ae_4hr"]["zero_denominator"] == 1
    assert latest_snapshot(project.snapshots).hash == snap.hash
    files = sorted(p.name for p in project.snapshots.iterdir())
    assert files == sorted(["LATEST", f"{snap.hash}.json", f"{snap.hash}.metrics.parquet", f"{snap.hash}.orgs.parquet"])


def test_same_data_same_hash_and_files_are_not_rewritten(make_project: MakeProject) -> None:
    project = make_project()
    catalogue = load_catalogue(project.catalogue_file)
    _, first = pull(catalogue, project.root, project.snapshots)
    stamp = (project.snapshots / f"{first.hash}.metrics.parquet").stat().st_mtime_ns
    _, second = pull(catalogue, project.root, project.snapshots)
    assert second.hash == first.hash
    assert (project.snapshots / f"{first.hash}.metrics.parquet").stat().st_mtime_ns == stamp
    # Row order in the source does not matter; a changed number does.
    lines = BASIC_CSV.splitlines()
    (project.root / "data" / "ae.csv").write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    assert pull(catalogue, project.root, project.snapshots)[1].hash == first.hash
    (project.root / "data" / "ae.csv").write_text(BASIC_CSV.replace("120,30", "120,31"))
    assert pull(catalogue, project.root, project.snapshots)[1].hash != first.hash


def test_failed_pull_keeps_the_last_good_snapshot(make_project: MakeProject) -> None:
    project = make_project()
    catalogue = load_catalogue(project.catalogue_file)
    _, good = pull(catalogue, project.root, project.snapshots)
    before = sorted(p.name for p in project.snapshots.iterdir())
    (project.root / "data" / "ae.csv").write_text(BASIC_CSV.replace("120,30", "lots,30"))
    with pytest.raises(DataError):
        pull(catalogue, project.root, project.snapshots)
    assert sorted(p.name for p in project.snapshots.iterdir()) == before
    assert latest_snapshot(project.snapshots).hash == good.hash


def test_tampered_snapshot_is_detected(make_project: MakeProject) -> None:
    project = make_project()
    _, snap = pull(load_catalogue(project.catalogue_file), project.root, project.snapshots)
    path = project.snapshots / f"{snap.hash}.metrics.parquet"
    frame = pd.read_parquet(path)
    frame.loc[0, "value"] = 0.5
    frame.to_parquet(path, index=False)
    with pytest.raises(DataError, match="has been changed on disk"):
        read_snapshot(project.snapshots, snap.hash)


def test_no_snapshot_yet(make_project: MakeProject) -> None:
    project = make_project()
    with pytest.raises(DataError, match="run 'reporting data pull' first"):
        latest_snapshot(project.snapshots)


def test_hash_ignores_row_order() -> None:
    frame = pd.DataFrame(
        {
            "metric_id": ["m", "m"],
            "org_code": ["B", "A"],
            "period": ["2024-01-01"] * 2,
            "value": [1.0, 2.0],
            "numerator": [float("nan")] * 2,
            "denominator": [float("nan")] * 2,
            "flag": ["", ""],
        }
    )
    orgs = pd.DataFrame({"org_code": ["A", "B"], "org_name": ["a", "b"]})
    assert content_hash(frame, orgs) == content_hash(frame.iloc[::-1], orgs.iloc[::-1])


def test_hash_is_trusted_from_the_manifest_only_while_the_files_check_out(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from reporting.data import snapshot as snapshot_module

    project = make_project()
    _, snap = pull(load_catalogue(project.catalogue_file), project.root, project.snapshots)
    meta_path = project.snapshots / f"{snap.hash}.json"
    recorded = json.loads(meta_path.read_text())["files"]
    assert set(recorded) == {f"{snap.hash}.metrics.parquet", f"{snap.hash}.orgs.parquet"}
    hashed: list[int] = []
    real = snapshot_module.content_hash
    monkeypatch.setattr(snapshot_module, "content_hash", lambda m, o: hashed.append(1) or real(m, o))
    again = read_snapshot(project.snapshots, snap.hash)
    assert hashed == [] and again.hash == snap.hash  # size and checksum match: no re-hash of every row
    pd.testing.assert_frame_equal(again.metrics, snap.metrics)
    # a snapshot written before the manifest recorded its files is hashed in full, as before
    meta = json.loads(meta_path.read_text())
    del meta["files"]
    meta_path.write_text(json.dumps(meta))
    assert read_snapshot(project.snapshots, snap.hash).hash == snap.hash and hashed == [1]
    # changed bytes: the checksum no longer matches, the content is hashed, and the change is caught
    meta["files"] = recorded
    meta_path.write_text(json.dumps(meta))
    path = project.snapshots / f"{snap.hash}.metrics.parquet"
    frame = pd.read_parquet(path)
    frame.loc[0, "value"] = 0.25
    frame.to_parquet(path, index=False)
    with pytest.raises(DataError, match="has been changed on disk"):
        read_snapshot(project.snapshots, snap.hash)
    assert hashed == [1, 1]
    meta_path.write_text("{not json")
    with pytest.raises(DataError, match="manifest is damaged"):
        read_snapshot(project.snapshots, snap.hash)
