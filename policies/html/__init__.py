"""The HTML report an officer signs (``govnet report``): see :mod:`policies.html.report`."""

from .report import CheckedPlan, ReportOptions, check_for_report, render_html, report_data, report_html

__all__ = ["CheckedPlan", "ReportOptions", "check_for_report", "render_html", "report_data", "report_html"]
