"""How source readers report input they cannot use.

Two kinds of trouble, handled differently on purpose:

* A file whose *structure* is wrong (no header, wrong header names, not XML, a zip without
  the expected member) cannot be read at all: the reader raises :class:`SourceFormatError`,
  naming the file, the line and what was expected.
* A bad *record* inside an otherwise good file (a garbage line, a line cut off by a truncated
  download, a value that does not parse) should not cost the rest of the file: the reader
  puts it in a quarantine list of :class:`Quarantined` items and reads on. Readers that
  return a dataclass carry the list in its ``quarantined`` field; readers that return a
  DataFrame carry it in ``df.attrs["quarantined"]``.

A caller that wants strictness passes ``on_bad_record=BadRecord.RAISE`` to any reader.

Every reader is wrapped in :func:`reader_guard`, so :class:`SourceFormatError` is the only
exception a caller has to expect; :func:`decode_text` is how every text reader turns bytes
into text (byte-order marks, UTF-8, Windows-1252); :class:`PlausibleDates` is the window of
dates a reading may carry.
"""

from __future__ import annotations

import csv
import enum
import functools
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

import pandas as pd


class BadRecord(enum.Enum):
    """What a reader does with a record it cannot parse."""

    QUARANTINE = "quarantine"  #: keep it aside in the quarantine list, read on
    RAISE = "raise"  #: stop with a SourceFormatError


class SourceFormatError(ValueError):
    """Input that does not have the expected form.

    ``line`` is the 1-based line number in the file (or in the zip member), or ``None`` where
    the problem is not tied to a line (e.g. a missing zip member).
    """

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}" if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Quarantined:
    """One record set aside by a reader: where it was, why, and its text as found."""

    path: Path
    line: int | None
    reason: str
    text: str


class Quarantine:
    """Collects bad records for one file and applies the caller's :class:`BadRecord` policy."""

    def __init__(self, path: Path | str, policy: BadRecord = BadRecord.QUARANTINE) -> None:
        self.path = Path(path)
        self.policy = BadRecord(policy)
        self.items: list[Quarantined] = []

    def add(self, line: int | None, reason: str, text: str) -> None:
        """Set a record aside, or raise when the policy says so."""
        if self.policy is BadRecord.RAISE:
            raise SourceFormatError(self.path, line, f"{reason}: {text[:120]!r}")
        self.items.append(Quarantined(self.path, line, reason, text))


class PlausibleDates:
    """The window of dates a reading may carry; anything outside is quarantined, not stored.

    Real files carry impossible years (0001, 9999, a 1677 or 2262 at the edges of what
    ``datetime64[ns]`` can hold) after a bad export or a flipped digit; such a date parses
    but is wrong. ``first`` is a calendar day (the oldest Dutch series start in the 19th
    century); ``days_ahead`` is how far past today (UTC) a reading may lie (forecast-free
    observations only, so a day or two for clock and time-zone slack).
    """

    DEFAULT_FIRST = "1850-01-01"
    DEFAULT_DAYS_AHEAD = 2

    def __init__(self, first: str | object = DEFAULT_FIRST, days_ahead: int = DEFAULT_DAYS_AHEAD) -> None:
        self.first = pd.Timestamp(first).normalize()
        self.days_ahead = int(days_ahead)
        today = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
        self.last = today + pd.Timedelta(days=self.days_ahead + 1)  # exclusive: end of the last day

    def outside(self, stamps):
        """Boolean mask of ``stamps`` (naive UTC or tz-aware) outside the window; NaT is not outside."""
        stamps = pd.Series(stamps)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        return ((stamps < self.first) | (stamps >= self.last)).fillna(False).to_numpy(bool)

    def reason(self) -> str:
        return (f"date outside the plausible window {self.first:%Y-%m-%d} to "
                f"{(self.last - pd.Timedelta(days=1)):%Y-%m-%d} (ingest.plausible_dates)")

    def __repr__(self) -> str:  # part of a file's ingest setting: a new window reads files anew
        return f"PlausibleDates(first={self.first:%Y-%m-%d}, days_ahead={self.days_ahead})"


#: Byte-order marks and the encodings they announce, longest first (UTF-32 LE starts like UTF-16 LE).
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xef\xbb\xbf", "utf-8"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode_text(path: Path | str, raw: bytes) -> str:
    """The text of a source file: a byte-order mark decides the encoding and is dropped;
    otherwise UTF-8, and where that fails Windows-1252 (what Dutch office tools write),
    then Latin-1 (which decodes any byte, so a stray byte reaches a record check instead of
    failing the file). Raises :class:`SourceFormatError` for text with NUL bytes and no BOM
    (UTF-16 without a mark, or a binary file)."""
    for mark, encoding in _BOMS:
        if raw.startswith(mark):
            try:
                return raw[len(mark):].decode(encoding)
            except UnicodeDecodeError as error:
                raise SourceFormatError(path, _line_of(raw, error.start), f"not valid {encoding} text after its"
                                        f" byte-order mark ({error.reason})") from error
    if b"\x00" in raw[:4096]:
        raise SourceFormatError(path, _line_of(raw, raw.index(b"\x00")),
                                "expected text, found NUL bytes (binary data, or UTF-16 without a byte-order mark)")
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def reader_guard(reader):
    """Make ``reader(path, ...)`` raise nothing but :class:`SourceFormatError`.

    The readers check what they know can go wrong and name the line; this is the net under
    them for what nobody foresaw (a new kind of broken file): the error still names the file
    and says what happened, and the caller's "one bad file fails alone" handling applies.
    """
    @functools.wraps(reader)
    def guarded(path, *args, **kwargs):
        try:
            return reader(path, *args, **kwargs)
        except SourceFormatError:
            raise
        except (OSError, ValueError, TypeError, LookupError, AttributeError, ArithmeticError, RecursionError,
                MemoryError, EOFError, csv.Error, zipfile.BadZipFile, ParseError) as error:
            raise SourceFormatError(path, None, f"cannot be read ({type(error).__name__}: {error})") from error

    return guarded
