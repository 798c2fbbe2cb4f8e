"""docs/configuration.md is the schema's reference and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from pipelines.config_reference import markdown_reference
from pipelines.config_schema import SetupFile

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_the_reference_is_generated_from_the_schema():
    assert DOC.read_text(encoding="utf-8") == markdown_reference(), (
        "docs/configuration.md is out of date; regenerate it with "
        "'droogte config reference > docs/configuration.md'")


def test_the_reference_lists_every_key_of_every_mapping():
    text = DOC.read_text(encoding="utf-8")
    models = [SetupFile]
    seen = set()
    while models:
        model = models.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            assert f"| `{name}` |" in text, f"{model.__name__}.{name} missing from docs/configuration.md"
            assert field.description, f"{model.__name__}.{name} has no description"
            for sub in _models_in(field.annotation):
                models.append(sub)


def _models_in(annotation):
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)
