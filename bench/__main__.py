"""bench/run --scale city|province|nation [--database URL] [--json FILE]"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

from bench import operations
from bench.briefing import measure_briefing
from bench.synthetic import SCALES, generate

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description="规划任务督办系统的性能基准")
    parser.add_argument("--scale", choices=sorted(SCALES), required=True)
    parser.add_argument("--database", help="数据库 URL（默认 bench/results/<scale>.sqlite3，每次重建）")
    parser.add_argument("--json", type=Path, help="把结果写成 JSON")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    RESULTS.mkdir(exist_ok=True)
    url = args.database or f"sqlite:///{RESULTS / (scale.name + '.sqlite3')}"
    print(f"生成 {scale.name} 规模的合成数据 …", file=sys.stderr, flush=True)
    dataset = generate(url, scale)
    results, notes = run(url, dataset)
    print_table(results, notes)
    if args.json:
        args.json.write_text(json.dumps([r.as_json() for r in results], ensure_ascii=False, indent=1))
    failed = [r for r in results if not r.passed] + ([True] if notes.get("failures") else [])
    return 1 if failed else 0


def run(url: str, dataset) -> tuple[list, dict]:
    from config import Config
    from tracker import create_app, settle_heap

    scale, database = dataset.scale.name, url.split(":", 1)[0].split("+")[0]
    work = Path(tempfile.mkdtemp(prefix="bench-"))

    class BenchConfig(Config):
        DATABASE_URL = url
        INSTANCE_DIR = work
        STORAGE_DIR = work / "storage"
        MAILBOX_DIR = work / "mailbox"
        TESTING = False
        WTF_CSRF_ENABLED = False

    app = create_app(BenchConfig)
    operations.add_trivial_route(app)
    engine = app.extensions["tracker_db"].engine
    unit = operations.logged_in_client(app, dataset.unit_user, dataset.password)
    office = operations.logged_in_client(app, dataset.office_user, dataset.password)
    leader = operations.logged_in_client(app, dataset.leader_user, dataset.password)
    settle_heap()  # as wsgi.py and `tracker scheduler` do once the app is built
    pages = [("page_todo", unit, "/todo"),
             ("page_task_list", office, f"/plans/{dataset.plan_slug}/tasks"),
             ("page_task_detail", office, f"/tasks/{dataset.sample_task_id}"),
             ("page_round", office, f"/rounds/{dataset.open_round_id}")]
    dashboard_path = _dashboard_path(app)
    notes: dict = {"failures": []}
    if dashboard_path:
        pages.append(("page_dashboard", leader, dashboard_path))
        notes["dashboard_summary_refresh_s"] = round(operations.summarise_dashboard(app), 2)
    results = [operations.page(app, engine, client, name, path, scale, database)
               for name, client, path in pages]
    if dashboard_path and scale == "nation":  # the goal for the dashboard against its rollup
        results.append(operations.dashboard_against_rollup(engine, leader, dashboard_path, dataset.open_round_id,
                                                           scale, database))
        p95 = operations.dashboard_p95(leader, dashboard_path)
        notes["dashboard_p95_ms"] = round(p95, 1)
        if scale == "nation" and p95 >= 200:
            notes["failures"].append(f"dashboard p95 {p95:.0f} ms ≥ 200 ms")
    results.append(operations.login(app, dataset.office_user, dataset.password, scale, database))
    results.append(operations.plan_import(app, engine, scale, database))
    wave, wave_notes = operations.reminder_wave(engine, scale, database, runs={"city": 7, "province": 3}.get(scale, 1))
    results.append(wave)
    notes.update(wave_messages=wave_notes["messages"], wave_duplicates=wave_notes["duplicates"])
    if wave_notes["duplicates"]:
        notes["failures"].append(f"reminder wave sent {wave_notes['duplicates']} duplicates")
    briefing = measure_briefing(app, engine, dataset, scale, database)
    if briefing is None:
        notes["briefing_pdf"] = "not measured: a round of this many tasks runs past the 400-page cap of one briefing"
    else:
        results.append(briefing)
    engine.dispose()
    return results, notes


def _dashboard_path(app) -> str | None:
    endpoints = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    return endpoints.get("briefings.dashboard")


def print_table(results, notes) -> None:
    machine = f"{platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()}"
    print(f"\n{machine}")
    print(f"{'operation':<20}{'scale':<10}{'db':<12}{'app ms':>12}{'floor ms':>12}{'ratio':>8}{'goal':>7}{'queries':>9}  ok")
    for r in results:
        print(f"{r.name:<20}{r.scale:<10}{r.database:<12}{r.app_ms:>12.2f}{r.floor_ms:>12.2f}{r.ratio:>8.2f}"
              f"{r.goal:>7.1f}{r.queries:>9}  {'✓' if r.passed else '✗'}")
    for key, value in notes.items():
        if key != "failures":
            print(f"{key}: {value}")
    for failure in notes.get("failures", []):
        print(f"FAILED: {failure}")


if __name__ == "__main__":
    sys.exit(main())
