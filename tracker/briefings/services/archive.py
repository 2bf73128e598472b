"""The archive of published briefings: PDFs under the storage folder, whole or not at all, checked when read."""
from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path

from sqlmodel import Session

from tracker.accounts.permissions import require_visible
from tracker.briefings.models import Briefing, BriefingStatus
from tracker.briefings.services.drafts import get_briefing
from tracker.errors import Conflict, NotFound

FOLDER = "briefings"
#: characters no file system or browser accepts in a file name
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def new_stored_name(year: int, number: int) -> str:
    """2025/2025-003-<random>.pdf: readable, never reused, never derived from what a user typed."""
    return f"{year}/{year}-{number:03d}-{uuid.uuid4().hex[:16]}.pdf"


def stored_path(storage_dir: Path, stored_name: str) -> Path:
    return Path(storage_dir) / FOLDER / stored_name


def write_whole(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path` and rename it: a reader never sees half a PDF.

    :raises OSError: if the disk is full or not writable (the temporary file is removed)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_name(briefing: Briefing) -> str:
    """督查通报2025年第3期 关于…的通报.pdf — the Chinese name the browser saves it under."""
    title = _UNSAFE.sub(" ", briefing.title).strip()[:80]
    return f"督查通报{briefing.number_label} {title}.pdf"


def ascii_download_name(briefing: Briefing) -> str:
    """The fallback for clients that ignore filename*."""
    return f"briefing-{briefing.year}-{briefing.number or 0:03d}.pdf"


def archived_pdf(session: Session, briefing_id: int, *, storage_dir: Path, actor) -> tuple[Briefing, bytes]:
    """The published PDF's bytes, after checking they are the ones archived (sha256).

    :raises NotFound: if there is no such published briefing visible to `actor`
    :raises Conflict: if the archived file is missing or altered (it is never served then)
    """
    briefing = get_briefing(session, briefing_id, actor=actor).briefing
    require_visible(briefing.status is BriefingStatus.published)
    if not briefing.pdf_stored_name:
        raise NotFound("这期通报没有 PDF")
    path = stored_path(storage_dir, briefing.pdf_stored_name)
    try:
        data = path.read_bytes()
    except OSError:
        raise Conflict("存档的 PDF 文件缺失，请联系系统管理员从备份中恢复") from None
    if sha256_of(data) != briefing.pdf_sha256:
        raise Conflict("存档的 PDF 文件与发布时的校验值不符，可能已被改动，已停止下载；请联系系统管理员") from None
    return briefing, data
