"""Estimation rules: parameters, memory per component, FLOPs, time and cost."""
