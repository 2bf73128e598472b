"""`tracker briefing publish` and `tracker briefing list`."""
import click


@click.group("briefing", help="督查通报。")
def briefing_cli() -> None:
    pass
