"""The paper's tables next to our runs, verdicts on CSL, and the paper's figures.

* :mod:`cslnb.report.runs` -- checking run records and choosing one profile's runs;
* :mod:`cslnb.report.comparison` -- :func:`comparison_table`: paper value | ours | difference,
  split per cell (:func:`comparison_cells`), CSL's difference to each method,
  :func:`rank_agreement`: how our ranking of the methods correlates with the paper's;
* :mod:`cslnb.report.summary` -- :func:`csl_summary`: does CSL beat each baseline, by how much,
  with an interval of the difference over seeds; :func:`csl_headline`: one sentence on CSL
  against a cell's best baseline;
* :mod:`cslnb.report.seed_statistics` -- paired and Welch intervals over seeds, the exact
  permutation test, the binomial error of a test-set accuracy;
* :mod:`cslnb.report.ablations` -- :func:`ablation_table`: each CSL variant against the paper
  reading and against CE;
* :mod:`cslnb.report.formatting` -- notebook-ready strings and ``Styler`` of a comparison, and
  :func:`style_cell`: one cell's table, numbers right-aligned, differences coloured;
* :mod:`cslnb.report.reruns` -- :func:`rerun_table`: re-runs of a record (``data/verify/``)
  against it and the spread of its cell's seeds (imports the trainer, so it is not imported
  here);
* :mod:`cslnb.report.figures` -- Figures 1-2 and a class x epoch heat-map (needs matplotlib,
  so it is not imported here).
"""

from cslnb.report.comparison import (
    comparison_cells,
    comparison_from_results,
    comparison_table,
    csl_difference,
    reproduce_command,
)
from cslnb.report.formatting import format_cell, format_comparison, style_cell, style_comparison
from cslnb.report.summary import csl_headline, csl_summary

__all__ = [
    "comparison_cells",
    "comparison_from_results",
    "comparison_table",
    "csl_difference",
    "csl_headline",
    "csl_summary",
    "format_cell",
    "format_comparison",
    "reproduce_command",
    "style_cell",
    "style_comparison",
]
