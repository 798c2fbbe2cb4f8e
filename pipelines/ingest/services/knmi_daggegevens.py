"""KNMI's script service for daily station data ("daggegevens").

``POST https://www.daggegevens.knmi.nl/klimatologie/daggegevens`` with the form fields
``start`` and ``end`` (``YYYYMMDD``, both included, UT days), ``vars`` (``RH:EV24``) and
``stns`` (``260:348``) answers with the same text as the ``etmgeg_<STN>`` files: a legend
block, the header ``# STN,YYYYMMDD,   RH, EV24`` and one comma-separated line per station
and day. The answer is saved as it came and read with
:func:`pipelines.ingest.sources.knmi.read_knmi_daily`, so the service and the files give the same
table (``meteo.parquet`` form: precipitation and evaporation in mm/day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.ingest.services.http import HttpClient, ServiceResponseError, looks_like_html
from pipelines.ingest.sources.errors import SourceFormatError
from pipelines.ingest.sources.knmi import read_knmi_daily

DAGGEGEVENS_URL = "https://www.daggegevens.knmi.nl/klimatologie/daggegevens"

#: RH: daily precipitation sum; EV24: Makkink reference evaporation (both 0.1 mm).
DEFAULT_VARIABLES = ("RH", "EV24")


@dataclass(frozen=True)
class Download:
    """A service answer saved to ``path`` exactly as it came, with where and when it came from."""

    path: Path
    url: str
    retrieved_at: dt.datetime


class KnmiDaggegevens:
    """Client of the KNMI daily-data script service; ``url`` can point elsewhere (a mirror, a test server)."""

    def __init__(self, client: HttpClient, *, url: str = DAGGEGEVENS_URL) -> None:
        self.client = client
        self.url = url

    def download(
        self,
        stations: Iterable[str],
        start: dt.date,
        end: dt.date,
        folder: Path,
        *,
        variables: Iterable[str] = DEFAULT_VARIABLES,
    ) -> Download:
        """Ask for ``stations`` from UT day ``start`` to ``end`` (both included); save the answer in ``folder``.

        Raises :class:`ServiceResponseError` when the answer is an HTML page instead of
        KNMI text, and ``ValueError`` when ``end`` is before ``start``.
        """
        stations = [str(s) for s in stations]
        if not stations:
            raise ValueError("no stations to ask KNMI for")
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        form = {
            "start": start.strftime("%Y%m%d"),
            "end": end.strftime("%Y%m%d"),
            "vars": ":".join(variables),
            "stns": ":".join(stations),
        }
        response = self.client.post(self.url, data=form)
        retrieved_at = dt.datetime.now(dt.timezone.utc)
        body = response.content
        if looks_like_html(body):
            raise ServiceResponseError(
                self.url, f"expected KNMI daily text (legend, '# STN,YYYYMMDD,...'), got an HTML page "
                f"({len(body)} bytes) for stations {form['stns']} {form['start']}-{form['end']}")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        # no dots besides the suffix: the archive keeps the suffixes of the name
        path = folder / f"daggegevens_{'-'.join(stations)}_{form['start']}-{form['end']}.txt"
        path.write_bytes(body)
        return Download(path, self.url, retrieved_at)


def read_daggegevens(download: Download | Path, *, url: str | None = None) -> pd.DataFrame:
    """Read a saved answer into the ``meteo.parquet`` form (see :func:`read_knmi_daily`).

    A body without the KNMI header (an error text, an empty answer) raises
    :class:`ServiceResponseError` naming the URL and the saved file.
    """
    path = download.path if isinstance(download, Download) else Path(download)
    url = url or (download.url if isinstance(download, Download) else str(path))
    try:
        return read_knmi_daily(path)
    except SourceFormatError as exc:
        raise ServiceResponseError(url, f"answer saved as {path} is not KNMI daily text: {exc.message}") from exc
