"""Clients for the public data services: KNMI daily data, the KNMI Data Platform, BRO groundwater.

``http`` is the shared layer (timeouts, retries with backoff, redacted errors); one module
per service turns its answers into saved files and the processed-table forms of
``docs/contracts.md``; ``fetch`` asks each service only for what is newer than what is
stored and keeps every answer in the raw archive. Nothing here imports Prefect, except the
optional lookup of the Data Platform API key in a Prefect Secret block.
"""
