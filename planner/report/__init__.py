"""Planning reports: Markdown, HTML and PDF with charts (``planner report``).

spec -> estimate + plan (JSON dicts) -> build_context() -> ReportContext
-> render_markdown / render_html / render_pdf -> write_report (the one writer).
"""
