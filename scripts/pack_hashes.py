"""Content hashes of the shipped packs, built from the bundled data in a scratch copy of the project.

A refactor that should not change what packs say is checked by running this before and after and
diffing the output: `python scripts/pack_hashes.py > before.txt` ... `diff before.txt after.txt`.
The hash is `reporting.packs.publish.content_hash`: the file's sha256, as the writers are deterministic
(a rebuild from the same inputs is the same bytes, PDFs included), so only a change in content shows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="pack-hashes-") as scratch:
        root = Path(scratch)
        shutil.copytree(REPO / "templates", root / "templates")
        env = {**os.environ, "REPORTING_HOME": str(root)}
        subprocess.run(
            [sys.executable, "-m", "reporting", "demo"], cwd=root, env=env, check=True, stdout=subprocess.DEVNULL
        )
        for manifest in sorted((root / "outputs").rglob("manifest.json")):
            files = json.loads(manifest.read_text())["files"]
            for f in sorted(files, key=lambda f: f["name"]):
                rel = manifest.parent.relative_to(root / "outputs") / f["name"]
                print(f"{f.get('content_sha256', f['sha256'])}  {rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
