"""A plan with 附件 1 areas, and helpers to give them energy figures and measures scores."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tracker.agencies.models import UnitAlias, UnitKind
from tracker.reporting.models import AreaEnergyData, MeasuresScore
from tracker.tasks.models import AreaTarget
from tests.conftest import NOW


class AreaWorld:
    def __init__(self, session, plan, areas):
        self.session, self.plan, self.areas = session, plan, areas

    def __getitem__(self, name):
        return self.areas[name]

    def energy(self, name: str, year: int, energy, gdp, renewable=0, feedstock=0, expected=None) -> AreaEnergyData:
        row = AreaEnergyData(plan_id=self.plan.id, unit_id=self.areas[name].id, year=year, energy_tce=Decimal(energy),
                             gdp_10k_yuan=Decimal(gdp), renewable_tce=Decimal(renewable),
                             feedstock_tce=Decimal(feedstock),
                             expected_total_tce=None if expected is None else Decimal(expected), updated_dt=NOW)
        self.session.add(row)
        self.session.flush()
        return row

    def measures(self, name: str, year: int, score, note: str = "") -> MeasuresScore:
        row = MeasuresScore(plan_id=self.plan.id, unit_id=self.areas[name].id, year=year, score=Decimal(score),
                            note=note, updated_dt=NOW)
        self.session.add(row)
        self.session.flush()
        return row


def add_areas(session, make_plan, make_unit, targets: list[tuple[str, str, str | None]], *, slug=None,
              aliases: dict[str, str] | None = None) -> AreaWorld:
    """A 2021–2025 plan whose 附件 1 lists `targets` as (area, basic %, incentive %)."""
    plan = make_plan(slug) if slug else make_plan()
    units = {}
    for position, (name, basic, incentive) in enumerate(targets):
        unit = make_unit(f"{name}{plan.id}" if not slug else name, kind=UnitKind.area)
        units[name] = unit
        session.add(AreaTarget(plan_id=plan.id, unit_id=unit.id, position=position, line=position + 1,
                               basic_pct=Decimal(basic), incentive_pct=None if incentive is None else Decimal(incentive)))
    for alias, name in (aliases or {}).items():
        session.add(UnitAlias(unit_id=units[name].id, alias=alias))
    session.flush()
    return AreaWorld(session, plan, units)


#: the hand-worked areas (see test_compute.py for the arithmetic)
HAND_WORKED = [("甲区", "12", "13.6"), ("乙区", "13", "14"), ("丙县", "11", "12.5"), ("丁旗", "13", "14"),
               ("戊县", "12", "13.5")]


def fill_hand_worked(world: AreaWorld, year: int = 2023) -> None:
    for name in ("甲区", "丙县", "丁旗", "戊县"):
        world.energy(name, 2020, 1000, 1000)
    world.energy("乙区", 2020, 2000, 1000)
    world.energy("甲区", year, 990, 1100, expected=980)     # on schedule
    world.energy("乙区", year, 1880, 1000)                  # off the path: vetoed
    world.energy("丙县", year, 1000, 1050, feedstock=50)    # on the path only thanks to the feedstock exclusion
    world.energy("丁旗", year, 1032, 1200, expected=1000)   # reaches its incentive target: exempt
    # 戊县 has no figures for the year
    for name, score in (("甲区", 40), ("乙区", 60), ("丙县", 35), ("丁旗", 55), ("戊县", 50)):
        world.measures(name, year, score, note=f"{name}措施评分说明")


@pytest.fixture
def hand_worked(session, make_plan, make_unit):
    world = add_areas(session, make_plan, make_unit, HAND_WORKED, slug="hw",
                      aliases={"甲区人民政府": "甲区", "丙县全称": "丙县"})
    fill_hand_worked(world)
    return world
