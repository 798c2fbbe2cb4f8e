"""Publication: an analyst's approval (``approval.py``), the site and open data
(``publish.py``), and what a run leaves in the Prefect UI (``artifacts.py``)."""
