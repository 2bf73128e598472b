"""The briefing's final HTML against a reviewed snapshot (tests/briefings/snapshots/briefing.html).

The snapshot is written on the first run only, when it is absent; after that any change to the HTML fails here
until the snapshot file is deleted, regenerated and reviewed. Whitespace is normalised, charts are reduced to a
digest of their SVG, and generated ids to their names.
"""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from tracker.briefings.services import drafts, publishing
from tests.briefings.conftest import PUBLISHED_AT, new_briefing

SNAPSHOTS = Path(__file__).parent / "snapshots"


def normalised(html: str) -> str:
    def digest(match):
        svg = base64.b64decode(match.group(1))
        return f"data:image/svg+xml;base64,[svg sha256 {hashlib.sha256(svg).hexdigest()[:16]}, {len(svg)} bytes]"

    html = re.sub(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", digest, html)
    html = re.sub(r"\bid=\"[^\"]*-\d+\"", 'id="…"', html)
    html = re.sub(r"[ \t]+", " ", html)
    return "\n".join(line.strip() for line in html.splitlines() if line.strip()) + "\n"


def compare(name: str, html: str) -> None:
    path = SNAPSHOTS / name
    text = normalised(html)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs: delete it, rerun, review the new file"


def test_the_briefing_html_matches_its_snapshot(session, city, press, fake_renderer):
    briefing = new_briefing(session, city, opening="为推动各项任务落实，现将第三季度调度情况通报如下。",
                            problems="一是部分旗县区报送不及时。\n二是个别任务进度滞后于序时进度。",
                            next_steps="各牵头单位要加强统筹，按期报送。")
    publishing.publish_briefing(session, briefing, press=press, actor=city.office, now=PUBLISHED_AT)
    compare("briefing.html", fake_renderer[-1])


def test_the_html_is_the_same_every_time_it_is_made(session, city, press):
    briefing = new_briefing(session, city)
    assert drafts.briefing_html(session, briefing, issuer=press.issuer) == \
        drafts.briefing_html(session, briefing, issuer=press.issuer)


def test_a_published_briefing_is_rendered_again_from_its_snapshot_identically(session, city, press, fake_renderer):
    briefing = publishing.publish_briefing(session, new_briefing(session, city), press=press, actor=city.office,
                                           now=PUBLISHED_AT)
    assert drafts.briefing_html(session, briefing, issuer="另一个机关") == fake_renderer[-1]
