"""The statistics: bootstrap intervals, paired comparisons, p-values and verdicts."""
