"""`tracker energy import`, `tracker measures import`, `tracker evaluation run|export`.

Other tools rely on these: `run` prints the computed version's id alone on its last line; `export --format
json` prints the documented structure to stdout; a refused file exits 1 with every "第 N 行：…" on stderr.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker import time
from tracker.accounts.services import COMMAND_LINE
from tracker.db import get_session
from tracker.errors import Conflict, Invalid, InvalidFile, NotFound, PermissionDenied
from tracker.evaluations.models import EvaluationKind
from tracker.evaluations.services import data_import, exports, lifecycle, results
from tracker.tasks import services as plans

KINDS = click.Choice([kind.value for kind in EvaluationKind])


@click.group("energy", help="各地区能源数据。")
def energy_cli() -> None:
    pass


@click.group("measures", help="各地区节能措施评分。")
def measures_cli() -> None:
    pass


@click.group("evaluation", help="年度评价、中期评估、五年考核。")
def evaluation_cli() -> None:
    pass


def _fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def _plan(slug: str | None):
    session = get_session()
    if slug:
        try:
            return plans.get_plan(session, slug)
        except NotFound:
            _fail(f"没有标识为 {slug} 的计划（用 tracker plan list 查看已导入的计划）")
    plan = plans.default_plan(session)
    if plan is None:
        _fail("还没有导入任何计划（先运行 tracker plan import）")
    return plan


def _import(path: Path, slug: str | None, service) -> None:
    plan = _plan(slug)
    try:
        summary = service(get_session(), plan, path.read_bytes(), filename=path.name, actor=COMMAND_LINE,
                          now=time.now())
    except InvalidFile as exc:
        click.echo(f"无法导入 {path}（没有写入任何数据）：", err=True)
        for line, message in exc.problems:
            click.echo(f"第 {line} 行：{message}" if line else message, err=True)
        sys.exit(1)
    except (Invalid, PermissionDenied) as exc:
        _fail(f"无法导入 {path}：{exc}")
    click.echo(f"{plan.title}：{summary.summary()}")


@energy_cli.command("import", help="导入各地区能源数据（.xlsx 或 .csv，UTF-8 / GB18030），全部无误才写入。")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--plan", "slug", help="计划标识；默认为最近导入的计划。")
@with_appcontext
def energy_import(path: Path, slug: str | None) -> None:
    _import(path, slug, data_import.import_energy_data)


@measures_cli.command("import", help="导入各地区节能措施得分（表头 area,year,measures_score,note），全部无误才写入。")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--plan", "slug", help="计划标识；默认为最近导入的计划。")
@with_appcontext
def measures_import(path: Path, slug: str | None) -> None:
    _import(path, slug, data_import.import_measures)


@evaluation_cli.command("run", help="计算一次评价（已有版本时生成新版本）；最后一行输出该版本的编号。")
@click.option("--plan", "slug", required=True, help="计划标识（见 tracker plan list）。")
@click.option("--kind", required=True, type=KINDS, help="annual 年度评价、midterm 中期评估、final 五年考核。")
@click.option("--year", required=True, type=int, help="评价年度，如 2023。")
@with_appcontext
def run_command(slug: str, kind: str, year: int) -> None:
    plan = _plan(slug)
    try:
        evaluation = lifecycle.run_evaluation(get_session(), plan, kind=kind, year=year, actor=COMMAND_LINE,
                                              now=time.now())
    except (Invalid, Conflict, PermissionDenied) as exc:
        _fail(f"无法计算：{exc}")
    report = results.evaluation_report(get_session(), evaluation)
    graded = sum(1 for area in report["areas"] if area["grade"])
    click.echo(f"已计算{plan.title} {year}年{evaluation.kind.label}第 {evaluation.version} 版"
               f"（评价规则第 {report['rule_version']} 版）：{len(report['areas'])} 个地区，评定 {graded} 个；"
               f"{len(report['tasks'])} 项任务")
    click.echo(str(evaluation.id))


@evaluation_cli.command("export", help="导出一次评价的最新版本：--format json 输出到标准输出，xlsx 写入 --output。")
@click.option("--plan", "slug", required=True, help="计划标识。")
@click.option("--kind", required=True, type=KINDS, help="annual、midterm 或 final。")
@click.option("--year", required=True, type=int, help="评价年度。")
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx"]), default="json", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="xlsx 的输出文件。")
@with_appcontext
def export_command(slug: str, kind: str, year: int, fmt: str, output: Path | None) -> None:
    plan = _plan(slug)
    session = get_session()
    evaluation = results.latest_computed(session, plan, EvaluationKind(kind), year)
    if evaluation is None:
        _fail(f"{plan.title} {year}年{EvaluationKind(kind).label}还没有计算过（先运行 tracker evaluation run）")
    report = results.evaluation_report(session, evaluation)
    if fmt == "json":
        click.echo(json.dumps(exports.export_json(report), ensure_ascii=False, indent=2))
        return
    if output is None:
        _fail("导出 xlsx 时请用 --output 指定文件")
    partial = output.with_name(f".{output.name}.part")
    try:
        exports.write_workbook(report, partial)
        os.replace(partial, output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        _fail(f"无法写入 {output}：{exc.strerror or exc}")
    click.echo(f"已导出第 {evaluation.version} 版 → {output}")
