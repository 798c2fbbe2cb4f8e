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
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


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
