"""Readers for the data formats the publishers deliver (KNMI, DINOloket, Delft-FEWS PI, CSV).

Each reader takes a file as its publisher makes it and returns the pandas form that
``docs/contracts.md`` names. Readers know nothing of Prefect.
"""
