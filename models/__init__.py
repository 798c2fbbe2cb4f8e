"""Computation of droogte: indicators, the verdringingsreeks allocation, restriction rules.

Plain functions and classes on numpy, pandas and xarray. Nothing here imports Prefect or
``pipelines``.
"""
