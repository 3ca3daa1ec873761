"""Benchmark: the monthly-performance pack (PPTX+XLSX, native charts) for N trusts with the local (serial),
processes and dask (LocalCluster, 2 workers) executors, on the same machine, each with a cold chart cache.

Reports wall time, packs per minute, marginal seconds per extra pack ((T(N) - T(1)) / (N - 1)), the CPU time
of the whole process tree (workers AND their Chromium processes, in core-seconds, so "seconds of one core" per
pack can be read off) and the peak resident memory of one worker process. Speed-up is the serial marginal
wall time per pack over the parallel one, both measured in this run.
Run: `.venv/bin/python benchmarks/bench_scale.py 1 10 50 all`; another pack and formats with
`--pack board --formats docx,pdf,pptx 1 6` (results in scale-<pack>.json). `--python-stages N` also times, in this
process, the assembly and each Office writer of N papers (CPU seconds per paper, no LibreOffice).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
EXECUTORS = tuple(os.environ.get("BENCH_EXECUTORS", "local,processes,dask").split(","))


def _sample(stop: threading.Event, peaks: dict[int, int], cpu: dict[tuple[int, float], float]) -> None:
    """Peak RSS of each Python process, and the latest CPU time of every process in the tree (Chromium's
    too; a process that ends between two samples loses under 0.25 s of CPU)."""
    me = psutil.Process()
    while not stop.wait(0.25):
        procs = [me, *me.children(recursive=True)]
        for p in procs:
            try:
                times = p.cpu_times()
                cpu[(p.pid, p.create_time())] = times.user + times.system
                if "python" in p.name():
                    peaks[p.pid] = max(peaks.get(p.pid, 0), p.memory_info().rss)
            except psutil.Error:
                pass


PACK, FORMATS = "monthly-performance", ["pptx", "xlsx"]


def run(project: Path, orgs: list[str], executor: str) -> dict[str, float]:
    from reporting.schedule.executors import build_many

    cache = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    os.environ["REPORTING_CHART_CACHE"] = str(cache)
    shutil.rmtree(project / "outputs", ignore_errors=True)
    peaks: dict[int, int] = {}
    cpu: dict[tuple[int, float], float] = {}
    me = psutil.Process()
    own = me.cpu_times().user + me.cpu_times().system
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(stop, peaks, cpu), daemon=True)
    sampler.start()
    start = time.perf_counter()
    outcomes = build_many(project, PACK, orgs, executor=executor, formats=FORMATS)
    wall = time.perf_counter() - start
    from reporting.packs.render import _warm_office

    # LibreOffice starts in this process (the serial run; a pool's workers keep their own): one per burst
    office_starts = sum(o.starts for (pid, _), o in _warm_office._OFFICES.items() if pid == os.getpid())
    _warm_office.stop_all()  # the next run starts its own LibreOffice, as a fresh job would
    stop.set()
    sampler.join()
    cpu[(me.pid, me.create_time())] = me.cpu_times().user + me.cpu_times().system - own
    shutil.rmtree(cache, ignore_errors=True)
    # the serial run's worker is this process; otherwise the pool's / cluster's Python processes
    workers = (
        {os.getpid(): peaks.get(os.getpid(), 0)}
        if executor == "local"
        else {pid: rss for pid, rss in peaks.items() if pid != os.getpid()}
    )
    return {
        "load_avg": round(os.getloadavg()[0], 1),
        "packs": len(orgs),
        "failed": sum(not o.ok for o in outcomes),
        "wall_s": round(wall, 2),
        "packs_per_min": round(60 * len(orgs) / wall, 1),
        "cpu_s": round(sum(cpu.values()), 1),
        "peak_worker_rss_mb": round(max(workers.values()) / 2**20, 1) if workers else 0.0,
        "office_starts_here": office_starts,
    }


def python_stages(project: Path, orgs: list[str]) -> dict[str, float]:
    """CPU seconds of this process per paper for assembly (with its Pillow pictures) and each Office writer,
    without LibreOffice: the Python part of a paper, which the whole-tree figures cannot resolve when the machine
    is loaded. One batch for all `orgs`; the first paper warms imports and caches and is not counted; each paper
    is written once (a second write would find every chart sheet in charts.native_workbook's cache)."""
    from reporting.charts import Renderer
    from reporting.packs.build import prepare_build
    from reporting.packs.render import docx, pptx, xlsx
    from reporting.project import Project

    writers = {"docx": docx.render, "pptx": pptx.render, "xlsx": xlsx.render}
    formats = [f for f in FORMATS if f in writers]
    batch = prepare_build(Project(project), PACK, orgs=orgs)
    batch.warm()
    totals: dict[str, float] = {"assemble": 0.0, **dict.fromkeys(formats, 0.0)}
    with tempfile.TemporaryDirectory() as out, Renderer(cache=Path(out) / "cache") as renderer:
        for n, org in enumerate(orgs):
            start = time.process_time()
            pack = batch.pack(org)
            specs = pack.image_specs(FORMATS)
            images = renderer.render(specs)
            pack = pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})
            spent = {"assemble": time.process_time() - start}
            for fmt in formats:
                start = time.process_time()
                writers[fmt](pack, Path(out) / f"{org}.{fmt}")
                spent[fmt] = time.process_time() - start
            if n:
                for key, value in spent.items():
                    totals[key] += value / (len(orgs) - 1)
    return {**{k: round(v, 3) for k, v in totals.items()}, "total": round(sum(totals.values()), 3)}


def main(sizes: list[str], stages: int = 0) -> dict[str, dict[str, float]]:
    from reporting.data.catalogue import load_catalogue
    from reporting.data.load import pull
    from reporting.data.snapshot import latest_snapshot
    from reporting.packs.build import orgs_with_data
    from reporting.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copytree(ROOT / "templates", project / "templates")
        pull(load_catalogue(project / "templates" / "metrics.yaml"), project, project / "snapshots")
        frame = latest_snapshot(project / "snapshots").metrics
        acute = frame[(frame["metric_id"] == "ae_4hr") & frame["value"].notna()]
        long_series = set(acute.groupby("org_code")["value"].count().loc[lambda s: s >= 40].index)
        # trusts with A&E data for the run's month and at least 40 months of it (what `--all-orgs` would build,
        # less the few with short series)
        usable, _ = orgs_with_data(Project(project), PACK)
        trusts = sorted(set(usable) & long_series)
        results: dict[str, dict[str, float]] = {}
        for executor in EXECUTORS:
            for size in sizes:
                n = len(trusts) if size == "all" else int(size)
                results[f"{executor} {n}"] = run(project, trusts[:n], executor)
                print(executor, n, results[f"{executor} {n}"], flush=True)
        if stages:
            results[f"python per paper ({stages} after a warm-up)"] = python_stages(project, trusts[: stages + 1])
            print("python per paper", results[f"python per paper ({stages} after a warm-up)"], flush=True)
    for executor in EXECUTORS:
        rows = sorted((v["packs"], v["wall_s"], v["cpu_s"]) for k, v in results.items() if k.startswith(executor + " "))
        if len(rows) >= 2 and rows[-1][0] > rows[0][0]:
            (n1, t1, c1), (n2, t2, c2) = rows[0], rows[-1]
            results[f"{executor} marginal"] = {
                "s_per_extra_pack": round((t2 - t1) / (n2 - n1), 3),
                "cpu_s_per_extra_pack": round((c2 - c1) / (n2 - n1), 3),
            }
    serial = results.get("local marginal", {}).get("s_per_extra_pack")
    for executor in EXECUTORS[1:]:
        parallel = results.get(f"{executor} marginal", {}).get("s_per_extra_pack")
        if serial and parallel:
            results[f"{executor} marginal"]["speedup_vs_local"] = round(serial / parallel, 2)
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    name = "scale.json" if PACK == "monthly-performance" else f"scale-{PACK}.json"
    (ROOT / "benchmarks" / "results" / name).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    args = sys.argv[1:]
    STAGES = 0
    while args and args[0].startswith("--"):
        option, value, args = args[0], args[1], args[2:]
        if option == "--pack":
            PACK = value
        elif option == "--formats":
            FORMATS = value.split(",")
        elif option == "--python-stages":
            STAGES = int(value)
        else:
            raise SystemExit(f"unknown option {option}; expected --pack NAME, --formats a,b or --python-stages N")
    main(args or ["1", "10", "30"], STAGES)
