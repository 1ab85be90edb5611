"""Accuracy evaluation against ground truth: synthetic renders and labelled real clips."""
