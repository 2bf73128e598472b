"""Domain errors. Services raise them; routes and commands turn them into answers."""


class TrackerError(Exception):
    """Base of every error a user can be told about in plain Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(TrackerError):
    """The object does not exist, or lies outside the actor's scope (both answer 404)."""


class PermissionDenied(TrackerError):
    """The actor may see the object but not do this to it."""


class Conflict(TrackerError):
    """The object's state does not allow the change (already submitted, round closed, ...)."""


class Invalid(TrackerError):
    """A value a user gave is wrong; `field` names the form field, `line` the file line."""

    def __init__(self, field: str | None, message: str, *, line: int | None = None):
        super().__init__(message)
        self.field = field
        self.line = line

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.message}" if self.line else self.message


class InvalidFile(TrackerError):
    """A file was refused; `problems` lists (line, message) pairs, every one of them."""

    def __init__(self, problems: list[tuple[int | None, str]]):
        self.problems = problems
        super().__init__("；".join(_describe(line, msg) for line, msg in problems))


def _describe(line: int | None, message: str) -> str:
    return f"第 {line} 行：{message}" if line else message
