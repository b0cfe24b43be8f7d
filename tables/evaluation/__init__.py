"""Detector evaluation: labels and matching, calibration, hit rates and the random baseline."""
