"""Charts as SVG (pygal) without JavaScript, for an <img> on the result and indicator pages.

The figures arrive as the report's strings (Decimals); they become floats only here, to be drawn.
"""
from __future__ import annotations

from decimal import Decimal

import pygal
from pygal.etree import etree
from pygal.style import Style

STYLE = Style(background="#ffffff", plot_background="#ffffff", foreground="#1f2329", foreground_strong="#1f2329",
              foreground_subtle="#8a9099", font_family="'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif",
              colors=("#b0191e", "#1d5fd1", "#2e7d32", "#c77700"), title_font_size=16, label_font_size=12,
              legend_font_size=12, major_label_font_size=12)


def _svg(chart) -> bytes:
    """The chart's SVG with every <script> element removed (pygal always adds its config script)."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    body = etree.tostring(tree, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def _percent(value: str | None) -> float | None:
    return None if value is None else float(Decimal(value) * 100)


def _chart(title: str, **options):
    return pygal.Line(js=[], style=STYLE, width=720, height=380, title=title, show_dots=True, dots_size=3,
                      legend_at_bottom=True, legend_at_bottom_columns=4, disable_xml_declaration=False,
                      print_values=False, allow_interruptions=False, **options)


def area_chart(area: dict, series: dict | None) -> bytes:
    """The area's cumulative reduction by year against the pro-rata path and its basic and incentive targets."""
    chart = _chart(f"{area['area']}：能耗强度累计降低率（%）", value_formatter=lambda v: f"{v:.2f}%")
    if not series:
        chart.add("累计降低率", [])
        return _svg(chart)
    years = series["years"]
    chart.x_labels = [str(y) for y in years]
    shown = [_percent(v) for v in (*series["actual"], *series.get("required", []), series.get("basic"),
                                   series.get("incentive")) if v is not None]
    if shown:
        low, high = min(0.0, *shown), max(shown)
        margin = max(high - low, 1.0) * 0.1
        chart.range = (low - (margin if low < 0 else 0), high + margin)
    chart.add("累计降低率（实际）", [_percent(v) for v in series["actual"]])
    if series.get("required"):
        chart.add("序时进度要求", [_percent(v) for v in series["required"]], stroke_style={"dasharray": "6, 4"})
    if series.get("basic") is not None:
        chart.add("基本目标", [_percent(series["basic"])] * len(years), show_dots=False)
    if series.get("incentive") is not None:
        chart.add("激励目标", [_percent(series["incentive"])] * len(years), show_dots=False)
    return _svg(chart)


def indicator_chart(name: str, unit: str | None, years: list[int], values: dict[int, Decimal], *,
                    baseline_year: int | None, baseline: Decimal | None, target_year: int | None,
                    target: Decimal | None) -> bytes:
    """An indicator's yearly values with its baseline and target (and the straight path between them)."""
    chart = _chart(f"{name}{f'（{unit}）' if unit else ''}")
    chart.x_labels = [str(y) for y in years]
    actual = [float(values[y]) if y in values else (float(baseline) if y == baseline_year and baseline is not None
                                                     else None) for y in years]
    chart.add("实际值", actual)
    if baseline is not None and target is not None and baseline_year in years and target_year in years:
        span = target_year - baseline_year
        path = [float(baseline + (target - baseline) * (y - baseline_year) / span)
                if baseline_year <= y <= target_year else None for y in years]
        chart.add("规划路径", path, stroke_style={"dasharray": "6, 4"}, show_dots=False)
    if target is not None:
        chart.add("目标值", [float(target) if y == target_year else None for y in years], dots_size=6)
    return _svg(chart)
