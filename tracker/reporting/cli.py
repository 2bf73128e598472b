"""`tracker round …`: reporting rounds from the command line."""
import click


@click.group("round", help="定期调度。")
def round_cli() -> None:
    pass
