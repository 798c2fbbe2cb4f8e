"""The layout holds: models never import Prefect or pipelines; a stage never imports a flow module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The stage modules: each reads from the store, calls models, writes to the store.
STAGES = ("pipelines/indicators.py", "pipelines/allocation.py", "pipelines/restrictions.py",
          "pipelines/publication/publish.py")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_models_import_neither_prefect_nor_pipelines():
    for path in sorted((ROOT / "models").rglob("*.py")):
        bad = {n for n in _imports(path) if n.split(".")[0] in ("prefect", "pipelines")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_stages_import_no_flow_module_and_no_prefect():
    flows = ("pipelines.ingest.flows", "pipelines.daily_run", "pipelines.outlook_run")
    for stage in STAGES:
        imported = _imports(ROOT / stage)
        bad = {n for n in imported if n.startswith(flows) or n.split(".")[0] == "prefect"}
        assert not bad, f"{stage} imports {sorted(bad)}"


PEERS = ("xclim", "climate_indices", "pywr")


def test_the_peers_are_an_extra_that_the_default_install_leaves_out():
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").split())
    pins = {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins.items()}
    peers = project["optional-dependencies"]["peers"]
    for requirement in peers:  # pinned exactly, and to the version constraints.txt holds
        name, version = requirement.split("==")
        assert pins[re.sub(r"[-_.]+", "-", name).lower()] == version, requirement
    default = project["dependencies"] + project["optional-dependencies"]["test"]
    assert not [r for r in default if re.split(r"[<>=!\[ ;]", r)[0].replace("-", "_").lower() in PEERS]
    install = re.search(r"^\$\(STAMP\):.*?(?=^\S)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M | re.S)
    assert install and '-e ".[test]"' in install.group(0) and "peers" not in install.group(0)
    for folder in ("models", "pipelines", "dashboards"):
        for path in (ROOT / folder).rglob("*.py"):
            assert not {name.split(".")[0] for name in _imports(path)} & set(PEERS), path
