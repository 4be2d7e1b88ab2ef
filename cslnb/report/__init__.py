"""The paper's tables next to our runs, verdicts on CSL, and the paper's figures.

* :mod:`cslnb.report.runs` -- checking run records and choosing one profile's runs;
* :mod:`cslnb.report.comparison` -- :func:`comparison_table`: paper value | ours | difference;
* :mod:`cslnb.report.summary` -- :func:`csl_summary`: does CSL beat each baseline, by how much;
* :mod:`cslnb.report.formatting` -- notebook-ready strings and ``Styler`` of a comparison;
* :mod:`cslnb.report.figures` -- Figures 1-2 and a class x epoch heat-map (needs matplotlib,
  so it is not imported here).
"""

from cslnb.report.comparison import comparison_from_results, comparison_table, reproduce_command
from cslnb.report.formatting import format_comparison, style_comparison
from cslnb.report.summary import csl_summary

__all__ = [
    "comparison_from_results",
    "comparison_table",
    "csl_summary",
    "format_comparison",
    "reproduce_command",
    "style_comparison",
]
