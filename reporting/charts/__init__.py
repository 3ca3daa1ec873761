"""Charts: engine results -> ChartSpec -> plotly figure, static image (one browser per build) or native
Office chart. Builders never recompute statistics; writers never see a data source."""

from reporting.charts.benchmark_charts import benchmark_chart
from reporting.charts.comparison_charts import caterpillar_chart, funnel_chart, league_chart
from reporting.charts.export import ChartExportError, Image, Renderer, project_cache, render_all
from reporting.charts.spc_charts import icon_chart, sparkline_chart, spc_chart
from reporting.charts.spec import Badge, ChartSpec, Series
from reporting.charts.theme import DEFAULT_THEME, Palette, Theme

__all__ = [
    "DEFAULT_THEME",
    "Badge",
    "ChartExportError",
    "ChartSpec",
    "Image",
    "Palette",
    "Renderer",
    "Series",
    "Theme",
    "benchmark_chart",
    "caterpillar_chart",
    "funnel_chart",
    "icon_chart",
    "league_chart",
    "project_cache",
    "render_all",
    "sparkline_chart",
    "spc_chart",
]
