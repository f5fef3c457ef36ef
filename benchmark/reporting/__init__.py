"""Tables and figures from benchopt's result files (``python -m benchmark.reporting.report``), the
tuning tables, and the image frame shown in benchopt's HTML report."""
