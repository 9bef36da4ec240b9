"""The scheduling benchmark: one farm, one workload, every dispatch design, figures printed."""
