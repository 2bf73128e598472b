"""An evaluation's results as JSON (other tools read it) and as an .xlsx workbook with its inputs."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from tracker.evaluations.services.data_entry import ENERGY_FIELDS, ENERGY_LABELS
from tracker.reporting.ledger import safe_text

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_json(report: dict) -> dict:
    """The documented structure: kind, year, rule_version, areas (ranked, then ungraded), tasks."""
    return {
        "kind": report["kind"], "year": report["year"], "rule_version": report["rule_version"],
        "areas": [{"area": a["area"], "basic_target_pct": a["basic_target_pct"],
                   "incentive_target_pct": a["incentive_target_pct"], "intensity": a["intensity"],
                   "cumulative_reduction": a["cumulative_reduction"], "required_reduction": a["required_reduction"],
                   "target_points": a["target_points"], "measures_points": a["measures_points"], "total": a["total"],
                   "grade": a["grade"], "is_vetoed": a["is_vetoed"], "is_total_exempt": a["is_total_exempt"],
                   "missing_inputs": list(a["missing_inputs"])} for a in report["areas"]],
        "tasks": [{"section_number": t["section_number"], "number": t["number"], "title": t["title"],
                   "score": t["score"], "grade": t["grade"]} for t in report["tasks"]],
    }


def export_filename(report: dict) -> str:
    """评价结果 file name: 呼和浩特…_2023年中期评估_第2版.xlsx, without path or control characters."""
    title = re.sub(r'[\x00-\x1f\x7f\\/:*?"<>|“”]+', "", report["plan"]["title"]).strip(" .")[:60] or "评价"
    return f"{title}_{report['year']}年{report['kind_label']}_第{report['version']}版.xlsx"


def _number(value: str | None):
    """A figure as a number cell (Decimal keeps every digit), blank when there is none."""
    return None if value is None else Decimal(value)


def write_workbook(report: dict, output: str | BinaryIO) -> None:
    """Write the results with their inputs: 地区结果, 计算过程, 输入数据, 任务评价, 牵头单位汇总.

    Every text cell goes through `safe_text`: text starting with = + - @ gets a leading apostrophe.
    """
    workbook = Workbook(write_only=True)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="F0F1F4")
    wrap = Alignment(wrap_text=True, vertical="top")

    def sheet(title: str, headers: tuple[str, ...], widths: tuple[int, ...]):
        ws = workbook.create_sheet(title=title)
        for index, width in enumerate(widths):
            ws.column_dimensions[chr(ord("A") + index)].width = width
        ws.freeze_panes = "A2"
        cells = []
        for text in headers:
            cell = WriteOnlyCell(ws, value=text)
            cell.font, cell.fill = bold, fill
            cells.append(cell)
        ws.append(cells)
        return ws

    def text(ws, value, wrapped: bool = False):
        cell = WriteOnlyCell(ws, value=safe_text(value if value is not None else ""))
        if wrapped:
            cell.alignment = wrap
        return cell

    heading = (f"{report['plan']['title']} {report['year']}年{report['kind_label']} 第{report['version']}版"
               f"（评价规则第{report['rule_version']}版）")
    ws = sheet("地区结果", ("排名", "地区", "基本目标（%）", "激励目标（%）", "能耗强度（吨标准煤/万元）", "累计降低率",
                        "序时进度要求", "目标得分", "措施得分", "总分", "等级", "一票否决", "总量免考核", "缺少的数据"),
               (6, 16, 12, 12, 16, 12, 12, 10, 10, 10, 10, 10, 10, 40))
    for area in report["areas"]:
        ws.append([area["rank"], text(ws, area["area"]), _number(area["basic_target_pct"]),
                   _number(area["incentive_target_pct"]), _number(area["intensity"]),
                   _number(area["cumulative_reduction"]), _number(area["required_reduction"]),
                   _number(area["target_points"]), _number(area["measures_points"]), _number(area["total"]),
                   text(ws, area["grade"] or "未评定"), "是" if area["is_vetoed"] else "否",
                   "是" if area["is_total_exempt"] else "否", text(ws, "、".join(area["missing_inputs"]))])
    ws.append([])
    ws.append([text(ws, heading)])

    ws = sheet("计算过程", ("地区", "步骤", "规则", "计算"), (16, 24, 60, 80))
    for area in report["areas"]:
        for step in area["explanation"]:
            if step.get("key") in ("inputs", "series"):
                continue
            ws.append([text(ws, area["area"]), text(ws, step.get("title")), text(ws, step.get("rule"), True),
                       text(ws, step.get("text"), True)])

    ws = sheet("输入数据", ("地区", "年份", *(ENERGY_LABELS[name] for name in ENERGY_FIELDS), "措施得分", "评分说明"),
               (16, 8, 16, 18, 22, 12, 18, 10, 50))
    for area in report["areas"]:
        inputs = next((s for s in area["explanation"] if s.get("key") == "inputs"), None)
        if inputs is None:
            continue
        for figures in (inputs.get("base"), inputs.get("current")):
            if figures is None:
                continue
            is_current = figures["year"] == inputs.get("year")
            ws.append([text(ws, area["area"]), figures["year"], *(_number(figures.get(name)) for name in ENERGY_FIELDS),
                       _number(inputs.get("measures_score")) if is_current else None,
                       text(ws, inputs.get("measures_note") if is_current else "", True)])
        if inputs.get("current") is None and inputs.get("measures_score") is not None:
            ws.append([text(ws, area["area"]), inputs.get("year"), *([None] * len(ENERGY_FIELDS)),
                       _number(inputs["measures_score"]), text(ws, inputs.get("measures_note"), True)])

    ws = sheet("任务评价", ("序号", "任务", "牵头单位", "按时报送率", "目标达成率", "推进状态得分", "得分", "等级", "说明"),
               (8, 40, 20, 12, 12, 12, 10, 10, 80))
    for task in report["tasks"]:
        explanation = "；".join(step["text"] for step in task["explanation"])
        ws.append([text(ws, task["display_number"]), text(ws, task["title"]), text(ws, task["lead_unit"]),
                   _number(task["on_time_rate"]), _number(task["targets_met_rate"]), _number(task["status_score"]),
                   _number(task["score"]), text(ws, task["grade"]), text(ws, explanation, True)])

    ws = sheet("牵头单位汇总", ("牵头单位", "牵头任务数", "参与评价的任务数", "平均得分"), (24, 12, 16, 12))
    for entry in report["lead_units"]:
        ws.append([text(ws, entry["name"]), entry["task_count"], entry["evaluated_count"],
                   _number(entry["average_score"])])
    workbook.save(output)
