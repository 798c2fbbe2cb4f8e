"""Mutation fuzzing of every reader with seeded variants of real files from ``../shared/data``.

Each format starts from a small sample cut from a real file (KNMI daily station data, a KNMI
rain gauge, DINOloket exports in the 2024, ``_1`` and ``_0`` layouts, the Delft-FEWS PI-XML
files; the PI-JSON and sensor CSV samples are the real production PI-XML written in those
forms, since the shared data hold neither). Each sample is mutated by seeded random edits:
truncation at a random offset, deleted and duplicated lines, flipped bytes, other encodings,
byte-order marks, CR-only line ends, empty and header-only files, huge, negative and NaN
values, dates out of range, and structural edits of the XML and JSON. For every variant:

* the reader raises nothing but :class:`SourceFormatError`, and its message names the file;
* records from lines the mutation left alone (in a file whose header and tables are intact)
  are read exactly as from the unmutated sample;
* a file that fails as a whole after a mutation of its data lines only is a reader fault.

Then the variants that failed as a whole go through the real ingest flows after a good
ingest, and the stored tables must be exactly as before. The table of variants by format and
outcome is printed at the end (``pytest -s``), or by running this file as a script.
"""

from __future__ import annotations

import collections
import copy
import functools
import hashlib
import json
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest
import yaml

from pipelines.ingest.sources.dino import read_dino_csv
from pipelines.ingest.sources.errors import SourceFormatError
from pipelines.ingest.sources.fews import read_pi_json, read_pi_xml
from pipelines.ingest.sources.knmi import read_knmi_daily, read_knmi_rain_gauge
from pipelines.ingest.sources.sensor_csv import read_sensor_csv

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
VARIANTS_PER_FORMAT = 40  # 8 formats: 320 variants
SEED = 20261130


# ---------------------------------------------------------------- samples cut from real files

@dataclass
class Sample:
    """A small real file in one format: its text, its reader, and how to key its records."""

    format: str
    name: str
    text: str
    reader: Callable
    line_based: bool = True
    encoding: str = "utf-8"
    newline: str = "\r\n"
    data_line: re.Pattern = re.compile(r".")  # a line holding one record
    first_data_line: int = 0  # 0-based index of the first record line
    notes: list = field(default_factory=list)


def _knmi_daily_sample() -> Sample:
    with zipfile.ZipFile(SHARED_DATA / "knmi" / "daily" / "etmgeg_348.zip") as archive:
        lines = archive.read("etmgeg_348.txt").decode("ascii").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("# STN,YYYYMMDD"))
    data = lines[header + 2 + 10_000: header + 2 + 10_120]  # 2013-2014: RH and EV24 filled
    text = "\r\n".join(lines[: header + 2] + data) + "\r\n"
    return Sample("knmi-daily", "etmgeg_348.txt", text, read_knmi_daily,
                  data_line=re.compile(r"^\s*348,\d{8},"), first_data_line=header + 2)


def _rain_gauge_sample() -> Sample:
    lines = (SHARED_DATA / "knmi" / "rain-gauges" / "neerslaggeg_DE-BILT_550.txt").read_text(
        encoding="latin-1").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("STN,YYYYMMDD"))
    text = "\n".join(lines[: header + 121]) + "\n"
    return Sample("knmi-rain-gauge", "neerslaggeg_DE-BILT_550.txt", text, read_knmi_rain_gauge,
                  newline="\n", data_line=re.compile(r"^\s*550,\d{8},"), first_data_line=header + 1)


def _dino_sample(relative: str, fmt: str, rows: int) -> Sample:
    path = SHARED_DATA / "groundwater" / relative
    raw = path.read_bytes().decode("utf-8")
    lines = raw.splitlines()
    level_header = max(i for i, line in enumerate(lines) if line.upper().lstrip('"').startswith("LOCATIE"))
    text = "\r\n".join(lines[: level_header + 1 + rows]) + "\r\n"
    return Sample(fmt, path.name, text, read_dino_csv,
                  data_line=re.compile(r'^"?B\d\d[A-Z]\d{4}"?,"?\d{3}"?,"?(\d{2}-\d{2}-\d{4}|\d{4}/\d{2}/\d{2})'),
                  first_data_line=level_header + 1)


@functools.cache  # the 7.7 MB export is unzipped once for the three samples cut from it
def _production_series(events_per_series: int = 90) -> tuple[str, list[str], list[list[str]]]:
    """The head of the real PI-XML production export: its preamble, and per series the
    header lines and a slice of event lines with values (the first hours are missing)."""
    with zipfile.ZipFile(SHARED_DATA / "sensors" / "fews" / "WaalenBurg_201810-20190215_prod.zip") as archive:
        member = next(n for n in archive.namelist() if n.endswith(".xml"))
        lines = archive.read(member).decode("utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "<series>"][:2]
    preamble = "\n".join(lines[: starts[0]])
    series = []
    for start in starts:
        end_header = next(i for i in range(start, len(lines)) if lines[i].strip() == "</header>")
        events = [line for line in lines[end_header + 1: end_header + 3000] if "<event " in line]
        series.append(lines[start: end_header + 1] + events[2000: 2000 + events_per_series])
    return preamble, [s[: s.index(next(x for x in s if x.strip() == "</header>")) + 1] for s in series], \
        [[x for x in s if "<event " in x] for s in series]


def _pi_xml_level_sample() -> Sample:
    preamble, headers, events = _production_series()
    body = []
    for header, rows in zip(headers, events):
        body += header + rows + ["    </series>"]
    text = "\n".join([preamble, *body, "</TimeSeries>"]) + "\n"
    return Sample("pi-xml", "waalenburg_head.xml", text, read_pi_xml, newline="\n",
                  data_line=re.compile(r"^\s*<event "))


def _pi_xml_radar_sample() -> Sample:
    text = (SHARED_DATA / "sensors" / "fews" / "test_wsvv_fews.xml").read_text(encoding="utf-8")
    return Sample("pi-xml-radar", "test_wsvv_fews.xml", text, read_pi_xml, newline="\n",
                  data_line=re.compile(r"^\s*<event "))


_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_ELEMENT = re.compile(r"<(\w+)>([^<]*)</\1>")


def _pi_json_sample() -> Sample:
    preamble, headers, events = _production_series()
    document = {"timeZone": "1.0", "timeSeries": []}
    for header, rows in zip(headers, events):
        fields = dict(_ELEMENT.findall("\n".join(header)))
        document["timeSeries"].append({
            "header": {k: v for k, v in fields.items()},
            "events": [dict(_ATTRIBUTE.findall(row)) for row in rows],
        })
    return Sample("pi-json", "waalenburg_head.json", json.dumps(document, indent=1), read_pi_json,
                  line_based=False, newline="\n")


def _sensor_csv_sample() -> Sample:
    preamble, headers, events = _production_series(60)
    lines = ["# written from the head of WaalenBurg_201810-20190215_prod.zip (timeZone 1.0)",
             "sensor,time,value,unit,flag,x,y"]
    for header, rows in zip(headers, events):
        fields = dict(_ELEMENT.findall("\n".join(header)))
        sensor = f"{fields['locationId']}/{fields['parameterId']}"
        for row in rows:
            event = dict(_ATTRIBUTE.findall(row))
            value = "" if event["value"] == "NaN" else event["value"]
            lines.append(f"{sensor},{event['date']}T{event['time']}+01:00,{value},{fields['units']},"
                         f"{event['flag']},{fields['x']},{fields['y']}")
    return Sample("sensor-csv", "waalenburg_head.csv", "\r\n".join(lines) + "\r\n", read_sensor_csv,
                  data_line=re.compile(r"^[^#,]+/[^,]+,\d{4}-"), first_data_line=2)


SAMPLES: dict[str, Callable[[], Sample]] = {
    "knmi-daily": _knmi_daily_sample,
    "knmi-rain-gauge": _rain_gauge_sample,
    "dino-2024": lambda: _dino_sample("dino-2024/B02H0089001.csv", "dino-2024", 200),
    "dino-2019_1": lambda: _dino_sample("dino-2019/B33F0080002_1.csv", "dino-2019_1", 150),
    "dino-2019_0": lambda: _dino_sample("dino-2019/B33F0080002_0.csv", "dino-2019_0", 150),
    "pi-xml": _pi_xml_level_sample,
    "pi-json": _pi_json_sample,
    "sensor-csv": _sensor_csv_sample,
}


# ------------------------------------------------------------------------------- mutations

@dataclass
class Variant:
    """A mutated file: its bytes, the text it means (None where no text comparison applies),
    what was done, and whether failing as a whole is an acceptable answer."""

    kind: str
    data: bytes
    text: str | None
    may_fail: bool
    moved: list = field(default_factory=list)  # lines moved elsewhere (same multiset of lines)


def _lines(sample: Sample) -> list[str]:
    return sample.text.splitlines()


def _join(sample: Sample, lines: list[str]) -> str:
    return sample.newline.join(lines) + sample.newline


def _data_indices(sample: Sample, lines: list[str]) -> list[int]:
    found = [i for i, line in enumerate(lines) if sample.data_line.search(line)]
    return found or list(range(len(lines)))


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4}|\d{4}/\d{2}/\d{2}|(?<!\d)\d{8}(?!\d)")


def _replace_in_line(line: str, pattern: re.Pattern, make: Callable[[str], str], rng: random.Random) -> str:
    matches = list(pattern.finditer(line))
    if not matches:
        return line
    match = rng.choice(matches[1:] or matches)  # leave the station/well id where there is more
    return line[: match.start()] + make(match.group()) + line[match.end():]


def _odd_date(text: str, rng: random.Random) -> str:
    year = rng.choice(["0001", "1677", "2262", "9999", "1066", "2999"])
    if re.fullmatch(r"\d{8}", text):
        return year + text[4:]
    if re.fullmatch(r"\d{2}-\d{2}-\d{4}", text):
        return text[:6] + year
    return year + text[4:]


def _odd_number(text: str, rng: random.Random) -> str:
    return rng.choice(["99999999999999999999999", "-" + text.lstrip("-"), "1e308", "-1e400", "NaN", "nan",
                       "inf", "1" * 400, "-0", "0x1F", "1,5"])


def mutate(sample: Sample, rng: random.Random) -> Variant:
    """One seeded mutation of ``sample``."""
    text, lines = sample.text, _lines(sample)
    encoded = text.encode(sample.encoding)
    kinds = ["truncate", "delete-lines", "duplicate-lines", "flip-bytes", "encoding", "bom", "cr-only",
             "empty", "header-only", "odd-value", "odd-date", "swap-lines"]
    if sample.format.startswith("pi-xml"):
        kinds += ["xml-structure"] * 3
    if sample.format == "pi-json":
        kinds += ["json-structure"] * 4
    kind = rng.choice(kinds)
    if kind == "truncate":
        cut = rng.randrange(0, len(encoded))
        return Variant(kind, encoded[:cut], encoded[:cut].decode(sample.encoding, errors="ignore"), True)
    if kind in ("delete-lines", "duplicate-lines", "odd-value", "odd-date", "swap-lines"):
        indices = _data_indices(sample, lines)
        lines, moved = list(lines), []
        for _ in range(rng.randint(1, 3)):
            i = rng.choice(indices)
            if kind == "delete-lines":
                lines[i] = None
            elif kind == "duplicate-lines":
                lines[i] = lines[i] + "\n" + lines[i] if lines[i] is not None else None
            elif kind == "odd-value":
                lines[i] = _replace_in_line(lines[i], _NUMBER, lambda t: _odd_number(t, rng), rng) \
                    if lines[i] is not None else None
            elif kind == "odd-date":
                lines[i] = _replace_in_line(lines[i], _DATE, lambda t: _odd_date(t, rng), rng) \
                    if lines[i] is not None else None
            else:
                j = rng.choice(indices)
                if lines[i] is not None and lines[j] is not None:
                    moved += [lines[i], lines[j]]
                    lines[i], lines[j] = lines[j], lines[i]
        kept = [x for line in lines if line is not None for x in line.split("\n")]
        new = _join(sample, kept)
        return Variant(kind, new.encode(sample.encoding), new, not sample.line_based, moved)
    if kind == "flip-bytes":
        data = bytearray(encoded)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data))
            data[at] ^= 1 << rng.randrange(8)
        return Variant(kind, bytes(data), bytes(data).decode("latin-1"), True)
    if kind == "encoding":
        choice = rng.choice(["utf-16", "utf-16-le", "cp1252", "latin-1"])
        if choice in ("cp1252", "latin-1"):
            # a Dutch word with a non-ASCII letter in a place that holds free text
            marked = text.replace("Meetpunt", "Meetpünt", 1).replace("Peilmeting", "Peilmeting ë", 1)
            marked = marked.replace("ROYAL", "ROYAL Ä", 1).replace("written from", "written from é", 1)
            # XML declares its own encoding (UTF-8 here): other bytes make it not well-formed
            return Variant(f"encoding-{choice}", marked.encode(choice), marked, sample.format.startswith("pi-xml"))
        # UTF-16 without a byte-order mark cannot be told from binary: a refusal is right
        return Variant(f"encoding-{choice}", text.encode(choice), text,
                       choice == "utf-16-le" or sample.format.startswith("pi-xml"))
    if kind == "bom":
        return Variant(kind, b"\xef\xbb\xbf" + encoded, text, False)
    if kind == "cr-only":
        new = text.replace("\r\n", "\r").replace("\n", "\r")
        return Variant(kind, new.encode(sample.encoding), new, not sample.line_based)
    if kind == "empty":
        return Variant(kind, b"", "", True)
    if kind == "header-only":
        cut = sample.first_data_line or next(
            (i for i, line in enumerate(lines) if sample.data_line.search(line)), len(lines))
        new = _join(sample, lines[:cut])
        return Variant(kind, new.encode(sample.encoding), new, True)
    if kind == "xml-structure":
        return _xml_structure(sample, lines, rng)
    return _json_structure(sample, rng)


def _xml_structure(sample: Sample, lines: list[str], rng: random.Random) -> Variant:
    how = rng.choice(["drop-header", "drop-location", "empty-parameter", "duplicate-series", "event-outside",
                      "garble-timezone", "degrees-as-xy", "nested-junk", "drop-events"])
    lines = list(lines)
    headers = [i for i, line in enumerate(lines) if line.strip() == "<header>"]
    ends = [i for i, line in enumerate(lines) if line.strip() == "</header>"]
    series_starts = [i for i, line in enumerate(lines) if line.strip() == "<series>"]
    series_ends = [i for i, line in enumerate(lines) if line.strip() == "</series>"]
    k = rng.randrange(len(headers))
    if how == "drop-header":
        del lines[headers[k]: ends[k] + 1]
    elif how == "drop-location":
        lines = [line for line in lines if "<locationId>" not in line or rng.random() < 0.5]
    elif how == "empty-parameter":
        lines = [re.sub(r"<parameterId>[^<]*</parameterId>", "<parameterId/>", line) for line in lines]
    elif how == "duplicate-series":
        block = lines[series_starts[k]: series_ends[k] + 1]
        lines[series_ends[k] + 1: series_ends[k] + 1] = block
    elif how == "event-outside":
        event = next(line for line in lines if "<event " in line)
        lines.insert(series_starts[0], event)
    elif how == "garble-timezone":
        lines = [re.sub(r"<timeZone>[^<]*</timeZone>", f"<timeZone>{rng.choice(['x', '99', '', '1e9'])}</timeZone>",
                        line) for line in lines]
    elif how == "degrees-as-xy":
        lines = [re.sub(r"<x>[^<]*</x>", "<x>4.79</x>", re.sub(r"<y>[^<]*</y>", "<y>53.09</y>", line))
                 for line in lines]
    elif how == "nested-junk":
        lines.insert(ends[k], "            <units><b>m</b></units>")
    else:
        lines = [line for line in lines if "<event " not in line or rng.random() < 0.3]
    new = _join(sample, lines)
    return Variant(f"xml-{how}", new.encode(), new, True)


def _json_structure(sample: Sample, rng: random.Random) -> Variant:
    document = json.loads(sample.text)
    how = rng.choice(["null-header", "no-header", "header-list", "events-null", "events-dict", "event-null",
                      "event-list", "number-values", "null-location", "timezone-object", "duplicate-series",
                      "series-string", "degrees-as-xy", "huge-flag"])
    series = document["timeSeries"]
    k = rng.randrange(len(series))
    item = series[k]
    if how == "null-header":
        item["header"] = None
    elif how == "no-header":
        del item["header"]
    elif how == "header-list":
        item["header"] = list(item["header"].items())
    elif how == "events-null":
        item["events"] = None
    elif how == "events-dict":
        item["events"] = {"0": item["events"][0]}
    elif how == "event-null":
        item["events"][rng.randrange(len(item["events"]))] = None
    elif how == "event-list":
        item["events"][rng.randrange(len(item["events"]))] = ["2018-01-01", "00:00:00", "1"]
    elif how == "number-values":
        for event in item["events"]:
            event["value"] = float(event["value"])
    elif how == "null-location":
        item["header"]["locationId"] = None
    elif how == "timezone-object":
        document["timeZone"] = {"offset": 1}
    elif how == "duplicate-series":
        series.insert(k + 1, copy.deepcopy(item))
    elif how == "series-string":
        series[k] = "series"
    elif how == "degrees-as-xy":
        item["header"]["x"], item["header"]["y"] = "4.79", "53.09"
    else:
        item["events"][rng.randrange(len(item["events"]))]["flag"] = "9" * 30
    new = json.dumps(document, indent=1)
    return Variant(f"json-{how}", new.encode(), None, True)


# ------------------------------------------------------------------------------- records

def records(fmt: str, result) -> dict[tuple, tuple]:
    """The records a reader returned, keyed by series and time, as comparable tuples."""
    if fmt.startswith("knmi"):
        frame = result
        return {(r.station, r.date.strftime("%Y%m%d")): (r.precipitation_mm, getattr(r, "evaporation_mm", None))
                for r in frame.itertuples(index=False)}
    if fmt.startswith("dino"):
        frame = result.levels
        return {(r.well, r.time.strftime("%Y%m%d")): (r.level_m_nap, r.remark) for r in frame.itertuples(index=False)}
    frame = result.events
    return {(r.sensor, r.time.isoformat()): (r.value, None if pd.isna(r.flag) else int(r.flag))
            for r in frame.itertuples(index=False)}


def _day_keys(line: str) -> set[str]:
    """Every date in a line as YYYYMMDD (the key part records of a line share)."""
    found = set()
    for text in _DATE.findall(line):
        digits = re.sub(r"\D", "", text)
        if re.fullmatch(r"\d{2}-\d{2}-\d{4}", text):
            digits = text[6:] + text[3:5] + text[:2]
        found.add(digits)
    return found


def _same(a: tuple, b: tuple) -> bool:
    return all(x == y or (isinstance(x, float) and isinstance(y, float) and pd.isna(x) and pd.isna(y))
               for x, y in zip(a, b))


def check_unchanged_records(sample: Sample, variant: Variant, base: dict, got: dict) -> int:
    """Records whose source line the mutation left alone (in a file whose other lines are
    intact) must be read exactly as before. Returns how many records were compared."""
    if sample.format == "pi-json":
        return _check_unchanged_series(sample, variant, base, got)
    if variant.text is None or not sample.line_based and not sample.format.startswith("pi-xml"):
        return 0
    base_lines = collections.Counter(sample.text.splitlines())
    new_lines = collections.Counter(variant.text.splitlines())
    removed = base_lines - new_lines
    added = new_lines - base_lines
    touched = list(removed.elements()) + list(added.elements()) + variant.moved
    if any(not sample.data_line.search(line) for line in removed.elements()):
        return 0  # a header, legend or table line changed: the context of every record changed
    if any(not sample.data_line.search(line) and line.strip() for line in added.elements()) \
            and not sample.format.startswith("pi"):
        pass  # a new garbage line between records: the records around it keep their meaning
    touched_days = set().union(*(_day_keys(line) for line in touched)) if touched else set()
    compared = 0
    for key, value in base.items():
        day = re.sub(r"\D", "", key[1])[:8]
        if day in touched_days:
            continue
        assert key in got, f"{sample.format} {variant.kind}: record {key} of an unchanged line is missing"
        assert _same(got[key], value), f"{sample.format} {variant.kind}: record {key} changed: {value} -> {got[key]}"
        compared += 1
    return compared


def _check_unchanged_series(sample: Sample, variant: Variant, base: dict, got: dict) -> int:
    """PI-JSON: every series the mutation left as it was (and that is still the first series of
    its location and parameter) must give exactly its events as before."""
    try:
        document = json.loads(variant.data.decode("utf-8"))
        series = document["timeSeries"]
        assert json.loads(sample.text)["timeZone"] == document.get("timeZone")
    except (ValueError, KeyError, TypeError, AssertionError):
        return 0
    compared = 0
    first_of: dict[str, object] = {}
    for item in series:
        header = item.get("header") if isinstance(item, dict) else None
        if isinstance(header, dict) and header.get("locationId") and header.get("parameterId"):
            first_of.setdefault(f"{header['locationId']}/{header['parameterId']}", item)
    for item in json.loads(sample.text)["timeSeries"]:
        sensor = f"{item['header']['locationId']}/{item['header']['parameterId']}"
        if first_of.get(sensor) != item:
            continue
        for key, value in base.items():
            if key[0] != sensor:
                continue
            assert key in got and _same(got[key], value), f"pi-json {variant.kind}: event {key} of an unchanged series"
            compared += 1
    return compared


# ------------------------------------------------------------------------------- harness

@dataclass
class Outcome:
    format: str
    kind: str
    outcome: str  # read | read, quarantined | refused | guarded
    compared: int


def run_variants(folder: Path) -> tuple[list[Outcome], dict[str, list[Path]]]:
    """Write every variant under ``folder``, read it, check it; returns the outcomes and,
    per format, the variants refused as a whole (for the store check)."""
    outcomes, refused = [], collections.defaultdict(list)
    for fmt, make in SAMPLES.items():
        sample = make()
        base_path = folder / fmt / sample.name
        base_path.parent.mkdir(parents=True, exist_ok=True)
        base_path.write_bytes(sample.text.encode(sample.encoding))
        base_result = sample.reader(base_path)
        base = records(fmt, base_result)
        assert base, f"{fmt}: the unmutated sample gives no records"
        for number in range(VARIANTS_PER_FORMAT):
            rng = random.Random(f"{SEED}-{fmt}-{number}")
            variant = mutate(sample, rng)
            path = folder / fmt / f"v{number:03d}" / sample.name
            path.parent.mkdir(parents=True)
            path.write_bytes(variant.data)
            try:
                result = sample.reader(path)
            except SourceFormatError as error:
                assert str(path) in str(error), f"{fmt} {variant.kind}: error does not name the file: {error}"
                guarded = "cannot be read (" in error.message
                assert variant.may_fail, (f"{fmt} v{number} {variant.kind}: a mutation of data lines only failed the"
                                          f" whole file: {error}")
                outcomes.append(Outcome(fmt, variant.kind, "guarded" if guarded else "refused", 0))
                refused[fmt].append(path)
                continue
            except Exception as error:  # noqa: BLE001 - the point of the harness
                pytest.fail(f"{fmt} v{number} {variant.kind}: {type(error).__name__} escaped the reader: {error}")
            got = records(fmt, result)
            compared = check_unchanged_records(sample, variant, base, got)
            quarantined = result.attrs.get("quarantined", []) if isinstance(result, pd.DataFrame) \
                else result.quarantined
            outcomes.append(Outcome(fmt, variant.kind, "read, quarantined" if quarantined else "read", compared))
    return outcomes, refused


def outcome_table(outcomes: list[Outcome]) -> str:
    frame = pd.DataFrame([o.__dict__ for o in outcomes])
    table = frame.pivot_table(index="format", columns="outcome", values="kind", aggfunc="count", fill_value=0)
    table["variants"] = table.sum(axis=1)
    table.loc["all"] = table.sum()
    return table.to_string()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} does not exist")
    folder = tmp_path_factory.mktemp("fuzz")
    outcomes, refused = run_variants(folder)
    return folder, outcomes, refused


def test_every_variant_gives_records_or_the_documented_error(fuzzed):
    _, outcomes, _ = fuzzed
    print("\n" + outcome_table(outcomes))
    assert len(outcomes) >= 300
    assert {o.format for o in outcomes} == set(SAMPLES)
    # the net under the readers catches what nobody foresaw; none of these variants needs it
    guarded = [(o.format, o.kind) for o in outcomes if o.outcome == "guarded"]
    assert not guarded, f"exceptions only the guard caught: {guarded}"
    # the record comparison really ran
    assert sum(o.compared for o in outcomes) > 10_000


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def test_files_that_fail_leave_the_stored_tables_as_they_were(fuzzed, prefect_harness, tmp_path):
    from pipelines.demo import write_demo
    from pipelines.ingest.flows import GROUNDWATER_TABLE, METEO_TABLE, SENSORS_TABLE, ingest_all

    folder, _, refused = fuzzed
    config_path = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                             archive_dir=tmp_path / "archive")
    setup = yaml.safe_load(config_path.read_text())
    # the demo's own files, with one real sample per source, ingest first
    setup["stations"].append({"id": "348", "name": "Cabauw", "x": 122000, "y": 442000,
                              "file": str(folder / "knmi-daily" / "etmgeg_348.txt")})
    setup["wells"].append({"file": str(folder / "dino-2019_1" / "B33F0080002_1.csv")})
    setup["sensors"].append({"file": str(folder / "pi-xml" / "waalenburg_head.xml"), "format": "pi-xml"})
    setup["allow_inputs_from"] = [str(folder)]
    config_path.write_text(yaml.safe_dump(setup))
    first = ingest_all(config_path=str(config_path))
    assert all(not report.failed_files for report in first.values()), first
    processed = tmp_path / "processed"
    tables = [METEO_TABLE, GROUNDWATER_TABLE, SENSORS_TABLE, "stations.parquet", "wells.parquet",
              "sensors_meta.parquet"]
    before = {name: _digest(processed / name) for name in tables[:3]}
    meta_before = {name: pd.read_parquet(processed / name) for name in tables[3:]}

    # then every refused variant, each listed after the good files
    formats = {"knmi-daily": "stations", "knmi-rain-gauge": "stations", "dino-2024": "wells",
               "dino-2019_1": "wells", "dino-2019_0": "wells", "pi-xml": "sensors", "pi-json": "sensors",
               "sensor-csv": "sensors"}
    sensor_format = {"pi-xml": "pi-xml", "pi-json": "pi-json", "sensor-csv": "csv"}
    added = 0
    for fmt, paths in refused.items():
        for path in paths[:4]:
            entry = {"file": str(path)}
            if formats[fmt] == "stations":  # station ids are unique in a setup
                entry.update(id=f"fuzz-{added}", name=fmt, x=122000, y=442000,
                             format="knmi-daily" if fmt == "knmi-daily" else "knmi-rain-gauge")
            elif formats[fmt] == "sensors":
                entry["format"] = sensor_format[fmt]
            setup[formats[fmt]].append(entry)
            added += 1
    assert added >= 12
    config_path.write_text(yaml.safe_dump(setup))
    second = ingest_all(config_path=str(config_path))
    failed = sum(len(report.failed_files) for report in second.values())
    assert failed == added, {k: v.failed_files for k, v in second.items()}
    assert all(report.added == 0 and report.updated == 0 for report in second.values())
    assert {name: _digest(processed / name) for name in tables[:3]} == before
    for name, frame in meta_before.items():
        pd.testing.assert_frame_equal(pd.read_parquet(processed / name), frame)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        found, _ = run_variants(Path(tmp))
        print(outcome_table(found))
        print(pd.DataFrame([o.__dict__ for o in found]).groupby(["format", "kind", "outcome"]).size().to_string())
