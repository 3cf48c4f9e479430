"""The lab: the cost model, runs, and the head-to-head comparisons."""
