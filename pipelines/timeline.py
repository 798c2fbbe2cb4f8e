"""Timelines: which output a run writes to, and which dates a decision log accepts.

A *timeline* is one sequence of daily issues: one decision log (``decisions.parquet`` with its
open restrictions and hysteresis), one ``published.parquet`` (what the site shows) and one
site. The live timeline of a setup is its configured output (``output.processed``,
``output.site``). Two rules keep timelines apart:

- **Own output.** A back-test, a replay or any run for a day in the past runs into a folder of
  its own: :func:`own_output` gives the setup with every output it writes (processed tables,
  decision log, site) under that folder, so nothing of the live timeline is read or changed.
  The raw archive stays shared: it is content-addressed and never overwritten. On the command
  line this is ``droogte run --output DIR``; in Python ``drought_run(..., output=DIR)`` or
  ``own_output(load_config(path), DIR)``. A season replay calls ``drought_run`` day after day
  with the same ``output``: that folder is then its own timeline.
- **Forward only.** A run for a day before the last day a decision log decided, or before the
  ``valid_from`` of the live site, is refused (:func:`refusal`, exit code REFUSED) unless the
  run says ``republish``: then it becomes the live issue, and its decisions enter the log as
  corrections by the log's own rules (records are only appended). Re-running the last day is
  allowed (a retry changes nothing when the inputs are the same).

The last day decided is kept beside the log in ``timeline.json`` (``decided_until``,
``updated_at`` UTC); for a log written before that file existed, the latest ``valid_from`` in
the log stands in for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pandas as pd

from pipelines.store import DECISION_LOG, TIMELINE, Store


def own_output(config, folder: Path | str):
    """The setup ``config`` with every output it writes moved under ``folder``:
    ``folder/processed`` (processed tables, decision log, ``timeline.json``) and
    ``folder/site`` (the published site). Inputs and the raw archive are unchanged."""
    folder = Path(folder).resolve()
    update = {"processed_dir": folder / "processed", "site_dir": folder / "site"}
    if hasattr(config, "model_copy"):  # a pydantic configuration
        return config.model_copy(update=update)
    return dataclasses.replace(config, **update)


def setup(config_path: str, output: str | None = None):
    """The validated setup of ``config_path``, writing into ``output`` when one is given."""
    from pipelines.config import load_config

    config = load_config(config_path)
    return config if not output else own_output(config, output)


def decided_until(processed_dir: Path) -> dt.date | None:
    """The last day the timeline's decision log decided; None for a new timeline."""
    path = Path(processed_dir) / TIMELINE
    if path.exists():
        try:
            return dt.date.fromisoformat(json.loads(path.read_text())["decided_until"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: expected {{\"decided_until\": \"YYYY-MM-DD\"}}: {exc}") from None
    log = Path(processed_dir) / DECISION_LOG
    if log.exists():
        valid_from = pd.read_parquet(log, columns=["valid_from"])["valid_from"]
        return None if valid_from.empty else pd.Timestamp(valid_from.max()).date()
    return None


def record_decided(processed_dir: Path, day: dt.date) -> None:
    """Remember that the decision log has decided up to ``day`` (never moves backwards,
    except by a republish, which records the day it republished). Written atomically."""
    text = json.dumps({"decided_until": day.isoformat(),
                       "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}, indent=2)
    Store(processed_dir).write_text(text, TIMELINE)


def live_valid_from(site_dir: Path) -> dt.date | None:
    """``valid_from`` of the issue the live site shows (its ``metadata.json``); None when none."""
    path = Path(site_dir) / "metadata.json"
    if not path.exists():
        return None
    try:
        return dt.date.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["valid_from"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: expected a 'valid_from' YYYY-MM-DD: {exc}") from None


def refusal(config, day: dt.date, *, republish: bool = False) -> str | None:
    """Why a run of ``config`` for ``day`` must not run in this timeline, or None when it may.

    Refused: ``day`` before the decision log's last decided day, or before the live site's
    ``valid_from`` — unless ``republish``.
    """
    if republish:
        return None
    hint = ("run a back-test or replay into its own output (droogte run --output DIR), or, to "
            "replace the live issue on purpose, add --republish")
    decided = decided_until(config.processed_dir)
    if decided is not None and day < decided:
        return (f"{config.processed_dir / DECISION_LOG} has decided up to {decided.isoformat()}; a run for "
                f"{day.isoformat()} would rewrite that timeline; {hint}")
    live = live_valid_from(config.site_dir)
    if live is not None and day < live:
        return (f"the live site {config.site_dir} shows the issue valid from {live.isoformat()}; a run for "
                f"{day.isoformat()} would replace it with an older one; {hint}")
    return None
