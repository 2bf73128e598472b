"""`tracker demo seed`: accounts for every role and unit, so a newcomer can try everything at once."""
import click


@click.group("demo", help="演示数据。")
def demo_cli() -> None:
    pass
