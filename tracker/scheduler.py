"""`tracker scheduler`: APScheduler as a clock only, its jobs rebuilt from each domain's SCHEDULE at start."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import click
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import current_app
from flask.cli import with_appcontext

from tracker import settle_heap

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}


def build_scheduler(app) -> BlockingScheduler:
    from tracker.briefings.jobs import SCHEDULE as BRIEFINGS
    from tracker.reminders.jobs import SCHEDULE as REMINDERS
    from tracker.reporting.jobs import SCHEDULE as REPORTING

    scheduler = BlockingScheduler(jobstores={"default": MemoryJobStore()},
                                  executors={"default": ThreadPoolExecutor(2)}, job_defaults=JOB_DEFAULTS,
                                  timezone="Asia/Shanghai")
    soon = datetime.now(timezone.utc) + timedelta(seconds=2)
    for job, seconds in REMINDERS + BRIEFINGS + REPORTING:
        # the first tick comes at once, so a restart at 09:00 catches up on what is due
        scheduler.add_job(job, "interval", seconds=seconds, args=[app], id=job.__name__, next_run_time=soon)
    return scheduler


@click.command("scheduler", help="运行定时任务（提醒排队每 5 分钟、发送邮件每分钟、生成督查通报 PDF 每 5 秒、汇总领导看板的红黄绿灯和报送统计每 5 分钟）。可以同时运行多个。")
@with_appcontext
def scheduler_command() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = current_app._get_current_object()
    settle_heap()
    click.echo("定时任务已启动（Ctrl+C 停止）")
    try:
        build_scheduler(app).start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("定时任务已停止")
