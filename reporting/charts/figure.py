"""ChartSpec -> plotly Figure. The only module that knows plotly's vocabulary."""

from __future__ import annotations

import textwrap
from typing import Any

import plotly.graph_objects as go

from reporting.charts.labels import LABEL_WRAP
from reporting.charts.spec import Badge, ChartSpec, Series, leader_above

__all__ = ["to_figure"]

_DASH = {"solid": "solid", "dash": "dash", "dot": "dot"}


def _tick_format(spec: ChartSpec) -> str:
    return (
        f".{max(0, spec.y_decimals - 1)}%"
        if spec.y_format == "percent"
        else f",.{0 if spec.y_decimals == 0 else spec.y_decimals}f"
    )


def _hover(spec: ChartSpec) -> str:
    return "%{y:.1%}" if spec.y_format == "percent" else "%{y:,}"


def _trace(spec: ChartSpec, s: Series) -> Any:
    theme = spec.theme
    common: dict[str, Any] = {
        "name": s.name,
        "showlegend": s.show_in_legend and spec.kind not in {"sparkline"},
        "legendgroup": s.role,
    }
    if s.mode == "bars":
        kwargs = {"x": s.y, "y": s.x, "orientation": "h"} if spec.horizontal else {"x": s.x, "y": s.y}
        return go.Bar(
            **kwargs,
            marker={
                "color": list(s.point_colours or [s.colour] * len(s.x)),
                "line": {"color": theme.palette.text, "width": 0.5},
            },
            text=list(s.labels) if s.labels else None,
            textposition="outside",
            cliponaxis=False,
            **common,
        )
    marker: dict[str, Any] = {
        "size": theme.marker_size,
        "color": list(s.point_colours) if s.point_colours else s.colour,
        "line": {"width": 0.5, "color": theme.palette.text},
    }
    if s.point_symbols:
        marker["symbol"] = list(s.point_symbols)
    if s.role == "suppressed":  # an open asterisk is drawn by its outline only: the "*" of the tables
        marker.update({"size": theme.marker_size * 1.6, "line": {"width": 2, "color": s.colour}})
    if s.role in {"highlight"}:
        marker["size"] = theme.marker_size * 2
    elif s.role == "interval":  # small dots, so the 95% intervals show past them
        marker["size"] = theme.marker_size * 0.75
    elif len(s.x) > 120 and s.point_colours:  # long series: small common-cause dots, full-size signals
        marker["size"] = [
            theme.marker_size if c != theme.palette.common_cause else theme.marker_size / 2 for c in s.point_colours
        ]
    if s.mode == "intervals":
        error = {
            "type": "data",
            "symmetric": False,
            "color": s.colour,
            "thickness": 1.5,
            "width": 0,
            "array": [None if h is None or v is None else h - v for h, v in zip(s.high or (), s.y, strict=True)],
            "arrayminus": [None if lo is None or v is None else v - lo for lo, v in zip(s.low or (), s.y, strict=True)],
        }
        return go.Scatter(
            x=s.x,
            y=s.y,
            mode="markers",
            marker=marker,
            error_y=error,
            hovertext=list(s.labels) if s.labels else None,
            **common,
        )
    mode = {"lines": "lines", "markers": "markers", "lines+markers": "lines+markers"}[s.mode]
    line = {"color": s.colour, "width": s.width, "dash": _DASH[s.dash]}
    if s.role == "leader":  # the name at the line's far end, above or below it as the line runs
        return go.Scatter(
            x=s.x,
            y=s.y,
            mode="lines+text",
            line=line,
            text=["<br>".join(textwrap.wrap(t, LABEL_WRAP)) for t in s.labels or ()],
            textposition="top center" if leader_above(s) else "bottom center",
            textfont={"color": s.colour, "size": theme.font_size - 1},
            connectgaps=False,
            hoverinfo="skip",
            **common,
        )
    text = list(s.labels) if s.labels and s.role == "highlight" else None
    return go.Scatter(
        x=s.x,
        y=s.y,
        mode=mode + ("+text" if text else ""),
        line=line,
        marker=marker,
        text=text,
        textposition="top center",
        connectgaps=False,
        hovertext=list(s.labels) if s.labels and not text else None,
        **common,
    )


def _badges(fig: go.Figure, badges: tuple[Badge, ...], spec: ChartSpec) -> None:
    """MDC icons top right: a coloured ring with a letter/arrow and its label beneath (not colour alone).

    The ring is sized in pixels around a point in paper coordinates, so it stays round at any figure size.
    """
    icon = spec.kind == "icon"
    radius = 28 if icon else 22
    for i, badge in enumerate(badges):
        cx, cy = (0.5, 0.5) if icon else (0.95 - i * 0.15, 1.17)
        fig.add_shape(
            type="circle",
            xref="paper",
            yref="paper",
            xsizemode="pixel",
            ysizemode="pixel",
            xanchor=cx,
            yanchor=cy,
            x0=-radius,
            x1=radius,
            y0=-radius,
            y1=radius,
            line={"color": badge.colour, "width": 6 if icon else 4},
            fillcolor="#FFFFFF",
            opacity=1,
            layer="above",
        )
        text_colour = badge.colour if badge.colour.upper() != "#FAB428" else "#8A5A00"  # AA contrast on white
        fig.add_annotation(
            x=cx,
            y=cy,
            xref="paper",
            yref="paper",
            xanchor="center",
            yanchor="middle",
            text=f"<b>{badge.letter}</b>",
            showarrow=False,
            font={"color": text_colour, "size": 24 if icon else spec.theme.font_size + 2},
        )
        if not icon:
            fig.add_annotation(
                x=cx,
                y=cy,
                yshift=-radius - 4,
                xref="paper",
                yref="paper",
                yanchor="top",
                xanchor="center",
                text="<br>".join(textwrap.wrap(badge.label, 16)),
                showarrow=False,
                font={"size": max(9, spec.theme.font_size - 4), "color": spec.theme.palette.text},
            )


def _legend_markers(fig: go.Figure, spec: ChartSpec) -> None:
    """Legend entries for the point types shown, so shape and colour are both explained."""
    for label, colour, symbol in spec.legend_markers:
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=label,
                showlegend=True,
                marker={
                    "color": colour,
                    "symbol": symbol,
                    "size": spec.theme.marker_size + 2,
                    "line": {"width": 0.5, "color": spec.theme.palette.text},
                },
            )
        )


def to_figure(spec: ChartSpec) -> go.Figure:
    theme = spec.theme
    width, height = spec.size
    fig = go.Figure()
    for series in spec.series:
        fig.add_trace(_trace(spec, series))
    _legend_markers(fig, spec)
    small = spec.kind in {"sparkline", "icon"}
    # wrap long titles short of the icons' corner (plotly does not wrap text itself)
    chars = max(20, int((width - (90 + 130 * len(spec.badges))) / (theme.title_size * 0.62)))
    lines = textwrap.wrap(spec.title, chars)[:2]
    heading = "<br>".join(f"<b>{line}</b>" for line in lines)
    # up to three lines: a break's or a baseline's explanation follows the organisation's name
    sub_lines = textwrap.wrap(spec.subtitle, int(chars * theme.title_size / theme.font_size))[:3]
    sub = "<br>".join(sub_lines)
    title = (
        None
        if small
        else {
            "text": heading + (f"<br><span style='font-size:{theme.font_size}px'>{sub}</span>" if sub else ""),
            "x": 0.01,
            "xanchor": "left",
            "font": {"size": theme.title_size},
        }
    )
    fig.update_layout(
        title=title,
        width=width,
        height=height,
        template="simple_white",
        font={"family": theme.font_family, "size": theme.font_size, "color": theme.palette.text},
        paper_bgcolor=theme.palette.background,
        plot_bgcolor=theme.palette.background,
        margin={"l": 4, "r": 4, "t": 4, "b": 4}
        if small
        else {
            "l": 70,
            "r": 30,
            "t": max(125 if spec.badges else 0, 50 + 28 * len(lines) + 22 * len(sub_lines)),
            "b": 60,
        },
        showlegend=not small and spec.kind != "league",
        legend={"orientation": "h", "y": -0.15, "x": 0, "font": {"size": theme.font_size - 2}},
        hovermode="closest",
    )
    value_axis: dict[str, Any] = {
        "tickformat": _tick_format(spec),
        "title": spec.y_title or None,
        "showgrid": not small,
        "gridcolor": theme.palette.band,
        "zeroline": False,
    }
    other_axis: dict[str, Any] = {"title": spec.x_title or None, "showgrid": False}
    if spec.x_kind == "number":
        other_axis["tickformat"] = ",d"  # 450,000, not 450000 or 450k
    if spec.x_kind == "date":
        other_axis["tickformat"] = spec.x_date_format
    if spec.kind == "caterpillar":
        other_axis.update({"showticklabels": len(spec.series[0].x) <= 40, "tickangle": -60})
    if small:
        value_axis.update({"visible": False})
        other_axis.update({"visible": False})
    if spec.horizontal:
        fig.update_xaxes(**value_axis)
        fig.update_yaxes(autorange="reversed", showgrid=False, automargin=True)
    else:
        fig.update_yaxes(**value_axis)
        fig.update_xaxes(**other_axis)
    if spec.message:
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.add_annotation(
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
            text=spec.message,
            showarrow=False,
            font={"size": theme.title_size, "color": theme.palette.common_cause},
        )
    _badges(fig, spec.badges, spec)
    for note in spec.notes:
        fig.add_annotation(
            x=note[0],
            y=note[1],
            text=note[2],
            showarrow=True,
            arrowhead=2,
            ax=0,
            ay=-40,
            font={"color": theme.palette.highlight, "size": theme.font_size - 1},
            bgcolor="rgba(255,255,255,0.8)",
        )
    if spec.kind == "icon":
        fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, xaxis={"visible": False}, yaxis={"visible": False})
    return fig
