"""Reports: turn result objects into table (rich), json, csv or markdown text.

Only ``report.table`` imports rich, and only when a table is rendered.
"""
FORMATS = ("table", "json", "csv", "markdown")
