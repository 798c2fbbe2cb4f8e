"""Ingest: files and public services in, the raw archive and the processed tables out.

Source readers for the publishers' formats (:mod:`.sources`), clients of the public services
(:mod:`.services`), the raw archive of every ingested byte (:mod:`.archive`) and the Prefect
flows that tie them together (:mod:`.flows`).
"""
