"""`tracker user …`: accounts from the command line."""
import click


@click.group("user", help="用户账号。")
def user_cli() -> None:
    pass
