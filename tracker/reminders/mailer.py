"""Deliver one message (MIME bytes): over SMTP (TRACKER_SMTP_URL) or, with no server, into the instance mailbox."""
from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from tracker.time import PLAN_TZ


@dataclass
class Delivery:
    """What the server said, per recipient: accepted, refused for now (4xx), refused for good (5xx)."""

    accepted: dict[str, str] = field(default_factory=dict)
    transient: dict[str, str] = field(default_factory=dict)
    permanent: dict[str, str] = field(default_factory=dict)


class TransientFailure(Exception):
    """The server is down, slow or said 4xx to the whole message: try again later."""


class ServerUnavailable(TransientFailure):
    """The server could not be reached, or stopped answering until the timeout: every other message of the
    batch would wait just as long, so the sender gives them this one's outcome and ends the tick."""


class PermanentFailure(Exception):
    """The server refused the whole message with a 5xx: retrying will not help."""


class AuthenticationFailure(Exception):
    """535: our credentials are wrong; the queue pauses until the office fixes them."""


class SmtpMailer:
    """One reused connection per batch; every socket operation has a timeout."""

    transport = "smtp"

    def __init__(self, url: str, *, timeout: float):
        parsed = urlparse(url)
        query = parse_qs(parsed.query)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or (465 if parsed.scheme == "smtps" else 25)
        self.use_ssl = parsed.scheme == "smtps"
        self.starttls = query.get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.username = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        try:
            if self.use_ssl:
                connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                              context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.starttls:
                    connection.starttls(context=ssl.create_default_context())
            if self.username:
                connection.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthenticationFailure(_answer(exc.smtp_code, exc.smtp_error)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerUnavailable(f"无法连接邮件服务器 {self.host}:{self.port}：{_describe(exc)}") from exc
        self._connection = connection
        return connection

    def send(self, message: bytes, *, sender: str, recipients: list[str]) -> Delivery:
        """Send the MIME bytes to `recipients`; partial refusals come back per recipient, whole failures raise."""
        connection = self._connect()
        try:
            refused = connection.sendmail(sender, recipients, message)
        except smtplib.SMTPRecipientsRefused as exc:
            return _split({}, exc.recipients, recipients)
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            raise AuthenticationFailure(_answer(exc.smtp_code, exc.smtp_error)) from exc
        except smtplib.SMTPResponseException as exc:
            answer = _answer(exc.smtp_code, exc.smtp_error)
            self._reset_or_drop()
            if 400 <= exc.smtp_code < 500:
                raise TransientFailure(answer) from exc
            raise PermanentFailure(answer) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            failure = ServerUnavailable if _timed_out(exc) else TransientFailure
            raise failure(f"发送中断：{_describe(exc)}") from exc
        return _split(refused, {}, recipients)

    def _reset_or_drop(self) -> None:
        try:
            self._connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except OSError:
                pass

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()


class MailboxMailer:
    """No mail server configured: each message becomes an .eml file the office can read on the mail page."""

    transport = "mailbox"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def send(self, message: bytes, *, sender: str, recipients: list[str]) -> Delivery:
        headers = BytesHeaderParser().parsebytes(message)
        day = self.folder / parsedate_to_datetime(headers["Date"]).astimezone(PLAN_TZ).date().isoformat()
        day.mkdir(parents=True, exist_ok=True)
        name = headers["Message-ID"].strip("<>").replace("@", "_at_")
        temporary = day / f".{name}.part"
        temporary.write_bytes(message)
        temporary.replace(day / f"{name}.eml")
        return Delivery(accepted={address: "250 已存入本地邮箱目录" for address in recipients})

    def close(self) -> None:
        return None


def mailer_from_config(config) -> SmtpMailer | MailboxMailer:
    url = config.get("SMTP_URL") or ""
    if url:
        return SmtpMailer(url, timeout=float(config.get("SMTP_TIMEOUT_SECONDS", 10)))
    return MailboxMailer(Path(config["MAILBOX_DIR"]))


def _split(refused: dict, all_refused: dict, recipients: list[str]) -> Delivery:
    delivery = Delivery()
    problems = {**refused, **all_refused}
    for address in recipients:
        if address not in problems:
            delivery.accepted[address] = "250 OK"
            continue
        code, text = problems[address]
        answer = _answer(code, text)
        (delivery.transient if 400 <= code < 500 else delivery.permanent)[address] = answer
    return delivery


def _answer(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def _timed_out(exc: BaseException) -> bool:
    return isinstance(exc, socket.timeout | TimeoutError) or "timed out" in str(exc)


def _describe(exc: BaseException) -> str:
    if _timed_out(exc):
        return "连接超时（服务器没有应答）"
    return f"{exc.__class__.__name__}: {exc}"
