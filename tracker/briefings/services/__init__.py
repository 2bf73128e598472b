"""Briefing services, no Flask: each module a room.

- assembly: what a briefing says, from the round, the evaluation and the plan's indicators (plain JSON)
- drafts: create, edit, read, list and preview drafts; `briefing_html(session, briefing)`, the final HTML
- publishing: the number (max + 1 per year, guarded by the unique key), the PDF, the snapshot; render jobs
  claimed by the worker process
- archive: PDFs stored whole under the storage folder and checked against their sha256 when read
- dashboard: the leadership dashboard, in a fixed number of queries
"""
