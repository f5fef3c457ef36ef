"""Tables and figures from benchopt's result files (``python -m benchmark.reporting.report``) and
the tables of the CBSD68 tuning."""
