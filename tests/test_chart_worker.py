"""The chart worker (dashboards/chart_worker.py): a forked process draws the charts the run
asks for; the pages get the same drawings as when drawn in the run's own process, also when
the worker dies, and a drawing that fails says so where a page reads it.

Each case runs in a new Python process: the worker is forked only by a process with a single
thread, which the test session's own process is not once other tests have run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMON = textwrap.dedent("""
    import os, re, signal
    import numpy as np, pandas as pd
    from dashboards import chart_worker, charts
    from dashboards.charts import CATEGORY_STYLE, levels_chart, shortage_chart

    CATEGORIES = {c: (c, c) for c in CATEGORY_STYLE}

    def share(seed):
        days = pd.date_range("2025-04-01", "2025-08-15", freq="D")
        rng = np.random.default_rng(seed)
        return pd.DataFrame({"2a": rng.uniform(0, 40, len(days)), "3": rng.uniform(0, 90, len(days))}, index=days)

    def history():
        days = pd.date_range("2025-04-01", "2025-08-15", freq="D")
        return pd.DataFrame([{"date": d, "water_board": b, "level": int(k > 60) + int(k > 100 and b == "W1")}
                             for k, d in enumerate(days) for b in ("W1", "NL")])

    def drawings():
        made = [shortage_chart(share(seed), scope_nl="Oost", scope_en="East", categories=CATEGORIES)
                for seed in range(4)]
        made.append(levels_chart(history(), names={"W1": "Waterschap Een"}))
        return made

    def plain(svg):
        return re.sub(r"\\bc\\d+-", "c-", str(svg))
""")


def _run(script: str) -> str:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", COMMON + textwrap.dedent(script)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def test_the_worker_draws_the_same_svg_as_the_run_with_ids_of_their_own():
    out = _run("""
        here = drawings()
        charts._drawn.clear()
        assert chart_worker.start(), "no worker started"
        worker_pid = next(iter(chart_worker._pool._processes))
        there = drawings()
        assert all(isinstance(c.svg, charts._DrawnSvgs) for c in there), "drawn in the run, not by the worker"
        ids = set()
        for a, b in zip(here, there):
            for lang in ("nl", "en"):
                assert plain(a.svg[lang]) == plain(b.svg[lang]), lang
                own = set(re.findall(r'id="([^"]+)"', str(b.svg[lang])))
                assert own and not own & ids, "ids clash between drawings on one page"
                ids |= own
        assert dict(there[0].svg) == {lang: there[0].svg[lang] for lang in ("nl", "en")}
        chart_worker.stop()
        assert chart_worker._pool is None
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            pass  # ended and reaped
        else:
            raise AssertionError("the worker outlived stop()")
        print("SAME", len(there))
    """)
    assert "SAME 5" in out


def test_a_killed_worker_leaves_the_drawing_to_the_run():
    out = _run("""
        here = drawings()
        charts._drawn.clear()
        assert chart_worker.start()
        os.kill(next(iter(chart_worker._pool._processes)), signal.SIGKILL)
        there = drawings()  # asked for while the worker is gone or going
        assert [plain(c.svg["nl"]) for c in here] == [plain(c.svg["nl"]) for c in there]
        again = shortage_chart(share(9), scope_nl="x", scope_en="x", categories=CATEGORIES)
        assert "<svg" in str(again.svg["en"])
        print("DRAWN")
    """)
    assert "DRAWN" in out


def test_a_drawing_that_fails_is_an_error_where_the_page_reads_it():
    out = _run("""
        import jinja2
        assert chart_worker.start()

        def broken(figure, lang):
            raise KeyError("no such column")  # a KeyError Jinja would otherwise take for a missing entry

        svgs = charts._draw(100, broken)
        template = jinja2.Environment(autoescape=True).from_string("<div>{{ svg.nl }}</div>")
        try:
            template.render(svg=svgs)
        except RuntimeError as exc:
            assert "drawing a chart failed: KeyError" in str(exc), exc
            print("RAISED")
        else:
            raise AssertionError("the page was written without its chart")
    """)
    assert "RAISED" in out
