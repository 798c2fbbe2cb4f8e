"""Orchestration of droogte: Prefect flows and tasks, source adapters, configuration, the CLI.

Dependencies point one way: ``pipelines`` uses ``models`` (computation) and ``dashboards``
(rendering); neither of those imports from here.
"""
