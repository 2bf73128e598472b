"""The round page's table rows, written in Python rather than with the template's macros (ui.status_light,
ui.unit_names, ui.flag_list and a url_for per row): a round page has many rows, and the macros were most of
its cost. The markup is the macros'; change both together. Every text is escaped."""
from __future__ import annotations

from markupsafe import Markup, escape

from tracker.reporting.services import progress

#: the round page marks these counts when they are not zero
ALERT_KEYS = frozenset(("returned", "late", "missing"))
LIGHT_WORDS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}


def round_row(row, tab: str, links: dict) -> Markup:
    """One row of the round page's table. Written here rather than in the template (ui.status_light,
    ui.unit_names, ui.flag_list and url_for for each row): the page has many rows, and this is most of its cost.
    The markup is the macros'; every text is escaped."""
    counts = row.counts
    cells = "".join(f'<td class="num{" count-alert" if counts[key] and key in ALERT_KEYS else ""}">{counts[key]}</td>'
                    for key in progress.STATUS_KEYS)
    total = f'<td class="num">{counts.total}</td>'
    if tab != "tasks":
        return Markup(f'<tr><td><a href="{links["unit"]}{row.id}">{escape(row.name)}</a></td>{total}{cells}</tr>\n')
    if row.may_review:
        href = f'{links["review"]}{row.id}'
    elif row.assignment_id:
        href = f'{links["report"]}{row.assignment_id}'
    else:
        href = f'{links["task"]}{row.id}'
    leads = "、".join(f'<a class="unit-link" href="{links["unit"]}{u.id}">{escape(u.name)}</a>'
                     for u in row.lead_units) or '<span class="muted">—</span>'
    return Markup(f'<tr><td><a href="{href}">{escape(row.name)}</a></td><td class="small">{leads}</td>'
                  f'{total}{cells}<td>{light_cell(row.light)}</td></tr>\n')


def light_cell(light) -> str:
    """ui.status_light with the override and the rules' answer beside it, then ui.flag_list of the reasons."""
    shown = light.light if light is not None else None
    key = getattr(shown, "value", shown) if shown else "none"
    key = key if key in LIGHT_WORDS else "none"
    html = (f'<span class="light light-{key}"><span class="light-dot" aria-hidden="true"></span>'
            f'{LIGHT_WORDS.get(key, "未评定")}</span>')
    if light is None:
        return html
    if light.override_reason:
        html += (f'<span class="light-reason small muted">（调整理由：{escape(light.override_reason)}）</span>'
                 f'<span class="small muted">（规则计算：{light.computed.label if light.computed else "未评定"}）</span>')
    if light.reasons:
        html += ('<ul class="flags">' + "".join(
            '<li class="flag"><span class="flag-mark" aria-hidden="true">⚠</span>'
            f'<span class="visually-hidden">注意：</span>{escape(flag)}</li>' for flag in light.reasons) + "</ul>")
    return html
