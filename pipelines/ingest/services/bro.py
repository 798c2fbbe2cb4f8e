"""BRO groundwater level dossiers (GLD) from the public BRO service.

The BRO (Basisregistratie Ondergrond, the Dutch key register of the subsurface) keeps one
*groundwater level dossier* per monitoring tube: ``GET
https://publiek.broservices.nl/gm/gld/v1/objects/{GLD id}`` (optionally
``observationPeriodBeginDate``/``observationPeriodEndDate``, ``YYYY-MM-DD``) answers with a
``dispatchDataResponse`` whose ``GLD_O`` names the tube (``monitoringPoint`` → the well's
GMW id and ``tubeNumber``) and holds ``observation`` elements: each an O&M observation whose
result is a WaterML 2.0 ``MeasurementTimeseries`` of ``MeasurementTVP`` points — a time
with a UTC offset, a level in m relative to NAP (``uom="m"``) and a quality qualifier
(``goedgekeurd`` approved, ``onbeslist`` undecided, ``afgekeurd`` rejected). Observations
are regular (``reguliereMeting``) or check readings (``controleMeting``), and provisional
(``voorlopig``) or fully assessed (``volledigBeoordeeld``).

:func:`read_gld_xml` turns a saved answer into the ``groundwater.parquet`` form of
``docs/contracts.md``: one row per well and day — the day as a Dutch observer writes it
(Europe/Amsterdam), like DINOloket's ``Peildatum`` — with the mean of that day's regular
readings (a loggers' hourly series becomes daily). Where the same instant comes in a fully
assessed and a provisional series, the assessed value wins. Rejected readings are left out
and listed in quarantine. BRO allows about 3 requests per second: give the
:class:`~pipelines.ingest.services.http.HttpClient` ``min_interval_s=BRO_MIN_INTERVAL_S``.
"""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.ingest.services.http import HttpClient, ServiceResponseError, looks_like_html
from pipelines.ingest.services.knmi_daggegevens import Download
from pipelines.ingest.sources.errors import BadRecord, Quarantine, Quarantined, SourceFormatError

BRO_GLD_URL = "https://publiek.broservices.nl/gm/gld/v1/objects"
#: BRO's fair-use limit is about 3 requests per second.
BRO_MIN_INTERVAL_S = 1 / 3

NS = {
    "gml": "http://www.opengis.net/gml/3.2",
    "om": "http://www.opengis.net/om/2.0",
    "waterml": "http://www.opengis.net/waterml/2.0",
    "swe": "http://www.opengis.net/swe/2.0",
    "xlink": "http://www.w3.org/1999/xlink",
    "gldcommon": "http://www.broservices.nl/xsd/gldcommon/1.0",
    "brocom": "http://www.broservices.nl/xsd/brocommon/3.0",
}
_HREF = f"{{{NS['xlink']}}}href"
_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
#: Local day of a reading: the day a Dutch observer writes down (DINOloket's Peildatum too).
LOCAL_TIME_ZONE = "Europe/Amsterdam"
_STATUS_RANK = {"volledigBeoordeeld": 0, "voorlopig": 1, "onbekend": 2}


@dataclass
class GldRecord:
    """One dossier read: its ids, the daily levels (``groundwater.parquet`` form) and what was set aside."""

    gld_id: str
    well: str
    levels: pd.DataFrame
    quarantined: list[Quarantined] = field(default_factory=list)


def well_id(gmw_id: str, tube_number: int | str) -> str:
    """The project's well id ``"<location>-<filter>"`` for a BRO tube: ``GMW000000041234-001``."""
    return f"{gmw_id}-{int(tube_number):03d}"


class BroGroundwaterLevels:
    """Client of the BRO GLD service; ``base_url`` can point at a test server."""

    def __init__(self, client: HttpClient, *, base_url: str = BRO_GLD_URL) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")

    def download(self, gld_id: str, folder: Path, *, begin: dt.date | None = None,
                 end: dt.date | None = None) -> Download:
        """Fetch dossier ``gld_id`` (only readings from ``begin`` to ``end`` when given) into ``folder``.

        Raises :class:`ServiceResponseError` when the answer is an HTML page, not XML.
        """
        if not gld_id.isalnum():
            raise ValueError(f"a GLD id is letters and digits, e.g. GLD000000012345; got {gld_id!r}")
        url = f"{self.base_url}/{gld_id}"
        params = {}
        if begin:
            params["observationPeriodBeginDate"] = begin.isoformat()
        if end:
            params["observationPeriodEndDate"] = end.isoformat()
        response = self.client.get(url, params=params or None)
        body = response.content
        if looks_like_html(body):
            raise ServiceResponseError(url, f"expected GLD XML for {gld_id}, got an HTML page ({len(body)} bytes)")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        span = f"_{begin:%Y%m%d}-{end:%Y%m%d}" if begin and end else ""
        path = folder / f"{gld_id}{span}.xml"
        path.write_bytes(body)
        return Download(path, str(response.url), dt.datetime.now(dt.timezone.utc))


def read_gld(download: Download, *, on_bad_record: BadRecord = BadRecord.QUARANTINE) -> GldRecord:
    """:func:`read_gld_xml` on a saved answer; a malformed one raises :class:`ServiceResponseError` naming the URL."""
    try:
        return read_gld_xml(download.path, on_bad_record=on_bad_record)
    except SourceFormatError as exc:
        raise ServiceResponseError(download.url, f"answer saved as {download.path} is not a GLD document: "
                                   f"{exc}") from exc


def read_gld_xml(path: Path | str, *, on_bad_record: BadRecord = BadRecord.QUARANTINE) -> GldRecord:
    """Read a BRO GLD XML answer into daily levels per well.

    ``levels`` has columns ``well`` (str, GMW id and tube), ``time`` (datetime64 naive, the
    Europe/Amsterdam day), ``level_m_nap`` (float64, m NAP, mean of the day's regular
    readings) and ``remark`` (str: ``""``, or the BRO qualifiers other than approved and the
    observation status when provisional, e.g. ``"BRO onbeslist; voorlopig"``).

    Raises :class:`SourceFormatError` for a document that is not GLD XML (cut off, no
    ``GLD_O``, no tube); a bad point (no time, unreadable value, a unit other than m) is
    quarantined, or raised with ``on_bad_record=BadRecord.RAISE``.
    """
    path = Path(path)
    quarantine = Quarantine(path, on_bad_record)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise SourceFormatError(path, line, f"not well-formed XML ({exc}); a cut-off download?") from None
    gld = next((e for e in root.iter() if _local(e.tag) == "GLD_O"), None)
    if gld is None:
        raise SourceFormatError(path, None, f"expected a GLD_O element (a groundwater level dossier), "
                                f"found root <{_local(root.tag)}>")
    gld_id = _text(gld, "brocom:broId") or gld.get(f"{{{NS['gml']}}}id", "")
    tube = gld.find(".//gldcommon:GroundwaterMonitoringTube", NS)
    gmw, number = (_text(tube, "gldcommon:broId"), _text(tube, "gldcommon:tubeNumber")) if tube is not None else ("", "")
    if not gmw or not number.isdigit():
        raise SourceFormatError(path, None, "expected monitoringPoint/GroundwaterMonitoringTube with broId and tubeNumber")
    well = well_id(gmw, number)

    rows = []
    for observation in gld.iter(f"{{{NS['om']}}}OM_Observation"):
        status_el = observation.find("om:metadata/waterml:ObservationMetadata/waterml:status", NS)
        status = (status_el.get(_HREF, "") if status_el is not None else "").rsplit(":", 1)[-1]
        kind = _text(observation, "om:metadata/waterml:ObservationMetadata/waterml:parameter/om:NamedValue/om:value")
        if kind == "controleMeting":  # hand check readings of a logger: not part of the series
            continue
        for point in observation.iterfind(".//waterml:MeasurementTVP", NS):
            text = ET.tostring(point, encoding="unicode")[:300]
            time_text = _text(point, "waterml:time")
            value_el = point.find("waterml:value", NS)
            qualifier = _text(point, "waterml:metadata/waterml:TVPMeasurementMetadata/waterml:qualifier/swe:Category/swe:value")
            try:
                when = pd.Timestamp(time_text)
                if when.tzinfo is None:
                    raise ValueError("time without UTC offset")
            except ValueError as exc:
                quarantine.add(None, f"expected a time with UTC offset, got {time_text!r} ({exc})", text)
                continue
            if value_el is None or value_el.get(_NIL) == "true" or not (value_el.text or "").strip():
                continue  # BRO writes a point without value where a logger failed: nothing to store
            unit = value_el.get("uom", "m")
            try:
                value = float(value_el.text)
                if unit != "m" or not math.isfinite(value):
                    raise ValueError(f"unit {unit!r}" if unit != "m" else "not finite")
            except ValueError as exc:
                quarantine.add(None, f"expected a level in m NAP, got {value_el.text!r} ({exc})", text)
                continue
            if qualifier == "afgekeurd":
                quarantine.add(None, "BRO qualifier afgekeurd (rejected)", text)
                continue
            rows.append((when, value, qualifier, status))

    levels = _daily(well, rows)
    levels.attrs["units"] = {"level_m_nap": "m NAP"}
    levels.attrs["source"] = str(path)
    return GldRecord(gld_id, well, levels, quarantine.items)


def _daily(well: str, rows: list[tuple]) -> pd.DataFrame:
    columns = ["well", "time", "level_m_nap", "remark"]
    if not rows:
        return pd.DataFrame({"well": pd.Series([], dtype=str), "time": pd.Series([], dtype="datetime64[us]"),
                             "level_m_nap": pd.Series([], dtype="float64"), "remark": pd.Series([], dtype=str)})
    frame = pd.DataFrame(rows, columns=["when", "level_m_nap", "qualifier", "status"])
    frame["when"] = pd.to_datetime(frame["when"], utc=True)
    frame["rank"] = frame["status"].map(_STATUS_RANK).fillna(3)
    frame = frame.sort_values(["when", "rank"], kind="stable").drop_duplicates("when", keep="first")
    frame["time"] = frame["when"].dt.tz_convert(LOCAL_TIME_ZONE).dt.tz_localize(None).dt.normalize()
    frame["remark"] = [_remark(q, s) for q, s in zip(frame["qualifier"], frame["status"])]
    daily = frame.groupby("time", sort=True).agg(
        level_m_nap=("level_m_nap", "mean"),
        remark=("remark", lambda r: "; ".join(sorted({x for x in r if x}))),
    ).reset_index()
    daily.insert(0, "well", well)
    daily["time"] = daily["time"].astype("datetime64[us]")
    return daily[columns].astype({"well": str, "remark": str, "level_m_nap": "float64"})


def _remark(qualifier: str, status: str) -> str:
    parts = []
    if qualifier and qualifier != "goedgekeurd":
        parts.append(f"BRO {qualifier}")
    if status == "voorlopig":
        parts.append("voorlopig")
    return "; ".join(parts)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: ET.Element | None, xpath: str) -> str:
    found = element.find(xpath, NS) if element is not None else None
    return (found.text or "").strip() if found is not None else ""
