"""Allocation: water shared by the verdringingsreeks over national source → water boards → districts.

The priority order (:mod:`.verdringingsreeks`), demand and local water from the weather
(:mod:`.demand`), the water balance and priority allocation over the network
(:mod:`.network`), the season's national pass and the water boards apart under its fractions
(:mod:`.board_split`), the outlook ensemble (:mod:`.outlook`), and running independent
allocations on a Dask cluster (:mod:`.parallel`).
"""
