"""Checks of the model: analytic checks, published patterns, the calibrated ensemble."""
