"""Charts as SVG (pygal), drawn from assembled data only: the same bytes for the same data, no script inside.

The page embeds them with <img>, the PDF as data: URIs. pygal's random chart id, its dated comment and its
configuration <script> are replaced or removed, so a chart is reproducible and inert.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal

import pygal
from pygal.style import Style

LIGHT_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", "none": "#9aa0a6"}
LIGHT_WORDS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "none": "未评定"}
FONT = "Noto Sans CJK SC"
WIDTH = 640

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


def _style(colours) -> Style:
    return Style(font_family=FONT, background="#ffffff", plot_background="#ffffff", foreground="#1f2329",
                 foreground_strong="#1f2329", foreground_subtle="#6b7280", colors=tuple(colours),
                 title_font_size=16, label_font_size=12, major_label_font_size=12, legend_font_size=13,
                 value_font_size=12, value_label_font_size=12, tooltip_font_size=12, no_data_font_size=16,
                 opacity="1", opacity_hover=".8")


def _config(**options) -> dict:
    return {"js": [], "width": WIDTH, "no_data_text": "暂无数据", "disable_xml_declaration": True, "truncate_label": -1,
            "truncate_legend": -1, "print_values": True, "tooltip_border_radius": 0, **options}


def _finish(chart, name: str) -> bytes:
    svg = chart.render(is_unicode=True)
    svg = _SCRIPT.sub("", _COMMENT.sub("", svg))
    return _UUID.sub(f"briefing-{name}", svg).encode("utf-8")


def _labels(texts) -> list[str]:
    """pygal sizes its margins for Latin text (0.6 em a character); a CJK character is a full em. Trailing
    spaces, which SVG does not draw, make it reserve room for the whole label."""
    return [text + " " * math.ceil(0.7 * sum(1 for ch in text if ord(ch) > 0x2e7f)) for text in texts]


def _number(value) -> float | None:
    return None if value in (None, "") else float(Decimal(str(value)))


def lights_chart(lights: dict[str, int], *, title: str = "任务红黄绿灯分布") -> bytes:
    """A pie of tasks by light: {"green": n, "yellow": n, "red": n, "none": n}."""
    keys = [key for key in ("green", "yellow", "red", "none") if lights.get(key)]
    chart = pygal.Pie(**_config(height=300, inner_radius=0.45, legend_at_bottom=True, legend_at_bottom_columns=4),
                      style=_style(LIGHT_COLOURS[k] for k in keys or ["none"]))
    chart.title = title
    for key in keys:
        chart.add(f"{LIGHT_WORDS[key]} {lights[key]} 项", lights[key])
    chart.value_formatter = lambda v: f"{v:g} 项"
    return _finish(chart, "lights")


def section_lights_chart(sections: list[dict], *, title: str = "各部分任务红黄绿灯") -> bytes:
    """Stacked bars per plan section: [{"name": …, "green": n, "yellow": n, "red": n, "none": n}]."""
    chart = pygal.HorizontalStackedBar(**_config(height=90 + 42 * max(1, len(sections)), legend_at_bottom=True,
                                                 legend_at_bottom_columns=4, print_values=False),
                                       style=_style(LIGHT_COLOURS.values()))
    chart.title = title
    sections = list(reversed(sections))  # the plan's first section on top
    chart.x_labels = _labels(s["name"] for s in sections)
    for key in ("green", "yellow", "red", "none"):
        chart.add(LIGHT_WORDS[key], [s.get(key, 0) or None for s in sections])
    chart.value_formatter = lambda v: f"{v:g} 项"
    return _finish(chart, "section-lights")


def on_time_chart(units: list[dict], *, title: str = "各单位按时报送率（%）", limit: int = 30) -> bytes:
    """Horizontal bars of each unit's on-time rate, lowest first: [{"unit": …, "rate": "87.5"|None}]."""
    rated = sorted((u for u in units if u.get("rate") is not None), key=lambda u: (_number(u["rate"]), u["unit"]))
    shown = list(reversed(rated[:limit]))  # pygal draws the first bar at the bottom: the lowest goes on top
    chart = pygal.HorizontalBar(**_config(height=110 + 24 * max(1, len(shown)), range=(0, 100), show_legend=False),
                                style=_style(["#b0191e"]))
    chart.title = title if len(rated) <= limit else f"{title}（最低的 {limit} 个单位）"
    chart.x_labels = _labels(u["unit"] for u in shown)
    chart.add("按时报送率", [_number(u["rate"]) for u in shown])
    chart.value_formatter = lambda v: f"{v:.1f}%"
    return _finish(chart, "on-time")


class _ValuesPastTheBars(pygal.HorizontalBar):
    """Horizontal bars whose printed values (print_values_position="top") stand just past the end of their bar —
    after a positive bar, before a negative one — instead of centred on the end, half over the bar."""

    def _static_value(self, serie_node, value, x, y, metadata, align_text="left", classes=None):
        align = "end" if str(value).startswith("-") else "start"
        return super()._static_value(serie_node, value, x, y, metadata, align, classes)


def _value_axis(values, *, steps: int = 8, room: float = 0.15) -> list[dict]:
    """Round ticks for a value axis, as pygal `y_labels`: from 0 and every value, with `room` (a share of the span)
    beyond the longest bars for their printed values, in at most about `steps` steps of 1, 2, 2.5 or 5 × 10ⁿ, labelled
    without trailing zeros (pygal would write each tick like the values, "10.00", and the labels would run together)."""
    numbers = [v for v in values if v is not None]
    if not numbers:
        return []  # pygal's own axis, or its 暂无数据
    low, high = min(numbers + [0.0]), max(numbers + [0.0])
    span = (high - low) or 1.0
    low, high = (low - room * span if low < 0 else low), high + room * span
    power = 10 ** math.floor(math.log10((high - low) / steps))
    step = next(power * m for m in (1, 2, 2.5, 5, 10) if (high - low) / (power * m) <= steps)
    ticks = (round(k * step, 9) for k in range(math.floor(low / step), math.ceil(high / step) + 1))
    return [{"value": tick, "label": f"{tick:g}"} for tick in ticks]


def reduction_chart(areas: list[dict], *, title: str = "各地区能耗强度累计下降与序时要求（%）") -> bytes:
    """Horizontal bars of each area's cumulative reduction beside its required path, one row per area in the given
    order (the first on top). Each area's name is written once on its own row, so names never overlap however many
    areas there are: the chart grows taller instead.

    `areas`: [{"unit": …, "cumulative_pct": "8.23", "required_pct": "8.00"}]
    """
    rows = list(reversed(areas))  # pygal draws the first row at the bottom
    reached = [_number(a.get("cumulative_pct")) for a in rows]
    required = [_number(a.get("required_pct")) for a in rows]
    chart = _ValuesPastTheBars(**_config(height=130 + 44 * max(1, len(rows)), legend_at_bottom=True,
                                         legend_at_bottom_columns=2, print_values_position="top",
                                         y_labels=_value_axis(reached + required)),
                               style=_style(["#b0191e", "#9aa0a6"]))
    chart.title = title
    chart.x_labels = _labels(a["unit"] for a in rows)
    chart.add("累计下降", reached)
    chart.add("序时要求", required)
    chart.value_formatter = lambda v: f"{v:.2f}"
    return _finish(chart, "reduction")


def counts_chart(rows: list[dict], *, title: str, name: str, series: str = "次数") -> bytes:
    """Horizontal bars of counts: [{"label": …, "count": n}]."""
    chart = pygal.HorizontalBar(**_config(height=110 + 26 * max(1, len(rows)), show_legend=False),
                                style=_style(["#f9a825"]))
    chart.title = title
    rows = list(reversed(rows))  # the first row on top
    chart.x_labels = _labels(r["label"] for r in rows)
    chart.add(series, [r["count"] for r in rows])
    chart.value_formatter = lambda v: f"{v:g}"
    return _finish(chart, name)


def indicator_chart(indicators: list[dict], *, title: str = "指标完成进度（从基期值到目标值，%）") -> bytes:
    """Horizontal bars of how far each indicator has moved from its baseline to its target: [{"label", "share_pct"}]."""
    shown = [i for i in reversed(indicators) if i.get("share_pct") is not None]  # the first on top
    chart = pygal.HorizontalBar(**_config(height=110 + 26 * max(1, len(shown)), show_legend=False),
                                style=_style(["#1d5fd1"]))
    chart.title = title
    chart.x_labels = _labels(i["label"] for i in shown)
    chart.add("完成进度", [_number(i["share_pct"]) for i in shown])
    chart.value_formatter = lambda v: f"{v:.0f}%"
    return _finish(chart, "indicators")
