"""`tracker energy import`, `tracker measures import`, `tracker evaluation run|export`."""
import click


@click.group("energy", help="各地区能源数据。")
def energy_cli() -> None:
    pass


@click.group("measures", help="各地区节能措施评分。")
def measures_cli() -> None:
    pass


@click.group("evaluation", help="年度评价、中期评估、五年考核。")
def evaluation_cli() -> None:
    pass
