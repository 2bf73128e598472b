"""WeasyPrint behind one function, with a URL fetcher that serves only the app's own static files and data: URIs.

This is the only module that imports WeasyPrint. Nothing here touches the network or the file system outside the
static folder: `file:` URLs, other hosts and paths that climb out of the static folder are refused, and a refusal
stops the render (a briefing with a silently missing picture is worse than one that is not issued).
"""
from __future__ import annotations

import mimetypes
import re
import zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

from functools import lru_cache

#: the base URL of every document given to WeasyPrint; `/static/…` resolves under it and is read from disk
BASE_URL = "https://tracker.invalid/"
STATIC_PREFIX = "/static/"
#: Song-style body and Hei-style headings, from Debian's fonts-noto-cjk
BODY_FONT = "Noto Serif CJK SC"
HEADING_FONT = "Noto Sans CJK SC"
REQUIRED_FONTS = (BODY_FONT, HEADING_FONT)
#: a briefing larger than this is refused before layout: it would tie a worker up for minutes
MAX_HTML_BYTES = 8 * 1024 * 1024
MAX_PAGES = 400


class RenderError(Exception):
    """The PDF could not be made; the message says why, in words the office can act on."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RefusedURL(ValueError):
    """A document asked for something other than the app's static files or a data: URI."""


@lru_cache(maxsize=1)
def _fetcher_class():
    """Built on first use: importing WeasyPrint costs half a second, which no command should pay for nothing."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serve `data:` URIs and `/static/…` under BASE_URL (read from the static folder); refuse everything else."""

        def __init__(self, static_folder: Path, *, base_url: str = BASE_URL):
            super().__init__(timeout=1, allowed_protocols=("data",), allow_redirects=False, fail_on_errors=True)
            self.static_folder = Path(static_folder).resolve()
            origin = urlsplit(base_url)
            self.origin = (origin.scheme, origin.netloc)

        def fetch(self, url: str, headers=None) -> URLFetcherResponse:
            """:raises RefusedURL: for anything but a data: URI or an existing file of the static folder"""
            if url[:5].lower() == "data:":
                return super().fetch(url, headers)
            parts = urlsplit(url)
            if (parts.scheme, parts.netloc) != self.origin or not parts.path.startswith(STATIC_PREFIX):
                raise RefusedURL(f"PDF 只能引用本系统的静态文件和 data: 地址，已拒绝：{_shorten(url)}")
            path = (self.static_folder / unquote(parts.path[len(STATIC_PREFIX):])).resolve()
            if self.static_folder not in path.parents or not path.is_file():
                raise RefusedURL(f"PDF 引用的静态文件不存在：{_shorten(parts.path)}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})

    return StaticOnlyFetcher


def __getattr__(name: str):
    if name == "StaticOnlyFetcher":
        return _fetcher_class()
    raise AttributeError(name)


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def render_pdf(html: str, *, static_folder: Path, base_url: str = BASE_URL,
               required_fonts: tuple[str, ...] = REQUIRED_FONTS, max_pages: int = MAX_PAGES) -> bytes:
    """Lay `html` out and return the PDF's bytes, fonts embedded as subsets.

    :raises RenderError: when a URL is refused, the layout fails, the document is too large, or one of
        `required_fonts` is not installed (WeasyPrint would silently substitute another font)
    """
    size = len(html.encode("utf-8"))
    if size > MAX_HTML_BYTES:
        raise RenderError(f"通报内容过大（{size // 1024} KB，上限 {MAX_HTML_BYTES // 1024} KB），无法生成 PDF；"
                          "请精简自由撰写的段落，或分期通报")
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _fetcher_class()(static_folder, base_url=base_url)
    try:
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render()
        if len(document.pages) > max_pages:
            raise RenderError(f"通报排版后有 {len(document.pages)} 页，超过 {max_pages} 页的上限；请分期通报")
        data = document.write_pdf()
    except RenderError:
        raise
    except FatalURLFetchingError as exc:
        cause = exc.__cause__
        raise RenderError(str(cause) if isinstance(cause, RefusedURL) else f"PDF 引用的资源无法读取：{cause or exc}") \
            from exc
    except Exception as exc:  # WeasyPrint raises many kinds; the office needs one readable sentence
        raise RenderError(f"PDF 排版失败（{type(exc).__name__}：{_shorten(str(exc), 200)}）") from exc
    used = {font.family for font in document.fonts.values()}
    missing = [family for family in required_fonts if family not in used]
    if missing:
        raise RenderError(f"服务器缺少字体“{'”“'.join(missing)}”，无法按公文格式生成 PDF；"
                          "请管理员安装 Debian 软件包 fonts-noto-cjk 后重试")
    return data


_STREAM = re.compile(rb"stream\r?\n")
_PAGES = re.compile(rb"/Type\s*/Pages\b")
_COUNT = re.compile(rb"/Count\s+(\d+)")


def count_pdf_pages(data: bytes) -> int:
    """The page count of a PDF, read from its page tree (also inside compressed object streams)."""
    chunks = [data]
    for match in _STREAM.finditer(data):
        end = data.find(b"endstream", match.end())
        if end < 0:
            continue
        try:
            chunks.append(zlib.decompress(data[match.end():end]))
        except zlib.error:
            continue
    counts = []
    for chunk in chunks:
        for match in _PAGES.finditer(chunk):
            start = chunk.rfind(b"<<", 0, match.start())
            stop = chunk.find(b">>", match.end())
            count = _COUNT.search(chunk, start, stop if stop >= 0 else len(chunk))
            if count:
                counts.append(int(count.group(1)))
    return max(counts, default=0)
