"""The chart tests' data; their Renderer is the session's (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def calendar_2024() -> pd.DataFrame:
    return pd.read_csv(Path(__file__).resolve().parents[1] / "data_fixtures" / "ae_trust_calendar_2024.csv")
