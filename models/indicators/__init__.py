"""Indicators: where we stand against normal, per station, well, sensor and district.

The precipitation deficit (:mod:`.deficit`) with KNMI's climatology (:mod:`.climatology`),
the SPI (:mod:`.spi`), groundwater percentiles and SGI (:mod:`.groundwater`), surface-water
levels against target and critical levels (:mod:`.surface_water`), from points to districts
(:mod:`.areal`), the age of every input (:mod:`.freshness`), and all of them in one Dataset
(:mod:`.dataset`).
"""
