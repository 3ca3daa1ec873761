"""One Chromium for the whole chart test session, with a cache directory of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from reporting.charts import Renderer


@pytest.fixture(scope="session")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Renderer]:
    with Renderer(cache=tmp_path_factory.mktemp("chart-cache")) as r:
        yield r


@pytest.fixture(scope="session")
def calendar_2024() -> pd.DataFrame:
    return pd.read_csv(Path(__file__).resolve().parents[1] / "data_fixtures" / "ae_trust_calendar_2024.csv")
