"""Escaping of values from data or configuration before they reach a published page.

Every string that comes from a district table, a metadata dict or a configuration file is
untrusted: a district named ``<img src=x onerror=alert(1)>`` must show as that text and run
nothing. Each function here escapes for exactly one context of a page; pick by where the
value lands.
"""

from __future__ import annotations

import html
import json
from typing import Any

# Characters that can end a <script> element, start an HTML comment or an entity, or end a
# JavaScript string in older engines (U+2028/U+2029 are line terminators there).
_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def html_text(value: Any) -> str:
    """Return ``value`` as text safe in HTML element content and quoted attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def json_for_script(value: Any) -> str:
    """Return ``value`` as JSON that is safe inside a ``<script>`` element.

    Besides being valid JSON (and so a valid JavaScript expression), the text contains no
    ``<``, ``>`` or ``&`` (no ``</script>`` or ``<!--`` can appear) and no raw U+2028/U+2029.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in _SCRIPT_UNSAFE.items():
        text = text.replace(raw, escaped)
    return text


def js_template_literal(value: Any) -> str:
    """Return ``value`` as the inside of a JavaScript template literal (between backticks).

    Escapes backslashes, backticks and ``${`` (which would start a substitution), plus the
    characters :func:`json_for_script` escapes, so the literal can sit inside ``<script>``.
    """
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    for raw, escaped in _SCRIPT_UNSAFE.items():
        text = text.replace(raw, escaped)
    return text
