"""reporting: performance data to Board and executive packs, in the NHS Making Data Count style."""

from __future__ import annotations

from reporting.errors import ConfigError, DataError, DeliveryError, ReportingError, SourceError, StatsError

__version__ = "0.1.0"

__all__ = ["ConfigError", "DataError", "DeliveryError", "ReportingError", "SourceError", "StatsError", "__version__"]
