"""Turn an uploaded file into text: UTF-8 or GB18030 text, or a .docx document."""
from __future__ import annotations

import io
import zipfile

from tracker.tasks.parsing.model import PlanParseError

#: what a .docx may unpack to
MAX_UNPACKED_BYTES = 100 * 1024 * 1024


def read_document(data: bytes, filename: str = "") -> str:
    """Return the document's text.

    :raises PlanParseError: if the bytes are neither a .docx nor text in UTF-8 or GB18030,
        naming the first line that cannot be read
    """
    if filename.lower().endswith(".docx") or data[:4] == b"PK\x03\x04":
        return _docx_text(data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[:utf8_error.start].count(b"\n") + 1
            raise PlanParseError([(line, "文件编码无法识别：请另存为 UTF-8 或 GB18030 编码的文本文件，或 .docx 文档")])
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise PlanParseError([(line, "这是二进制文件，不是文本：请上传 .txt 或 .docx 格式的规划文件")])
    return text


def _docx_text(data: bytes) -> str:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            # a zip bomb declares gigabytes in a few kilobytes; zipfile never inflates beyond the declared size
            raise PlanParseError([(None, f".docx 文档解压后超过 {MAX_UNPACKED_BYTES // (1024 * 1024)} MB，"
                                         "请删去图片等无关内容后重试")])
        document = Document(io.BytesIO(data))
        lines = []
        for element in document.element.body.iterchildren():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "p":
                lines.append(Paragraph(element, document).text)
            elif tag == "tbl":
                for row in Table(element, document).rows:
                    lines.append("\t".join(cell.text.replace("\n", "") for cell in row.cells))
    except PlanParseError:
        raise
    except Exception as exc:
        # a damaged archive fails anywhere, also after opening: zipfile (BadZipFile, NotImplementedError),
        # zlib.error, lxml's XMLSyntaxError, python-docx's AttributeError or TypeError on a malformed part
        raise PlanParseError([(None, f"无法打开 .docx 文档：{exc.__class__.__name__}，文件可能已损坏")]) from exc
    return "\n".join(lines)
