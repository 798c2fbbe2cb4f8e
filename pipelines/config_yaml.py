"""Reading a setup file's YAML: numbers as people write them, and no expansion bombs.

PyYAML implements YAML 1.1, in which ``4.0e6`` and ``1.5e6`` are *strings* (1.1 wants a dot
and a signed exponent), ``0123`` is octal, ``1:30`` is sexagesimal and ``no``/``on`` are
booleans. A setup file is read with the YAML 1.2 core schema instead, the one editors and
other tools use:

* numbers: ``1500000``, ``1_500_000`` (underscores between digits, as in Python), ``1.5e6``,
  ``4.0e6``, ``1.5E+6``, ``-0.5``, ``.5``, ``0x1F``, ``0o17``, ``.inf``/``.nan`` (refused later
  by the schema, which wants finite numbers);
* booleans: only ``true`` / ``false`` (``yes``, ``no``, ``on``, ``off`` stay text);
* ``null`` / ``~`` / nothing, and ``YYYY-MM-DD`` dates, as before.

Aliases (``*name``) are allowed, e.g. to share one list of rules between water boards, but a
document whose aliases expand past :data:`MAX_EXPANDED_NODES` values is refused before any
Python object is built: 431 bytes of nested aliases can otherwise expand to gigabytes.

PyYAML is kept (it is already a dependency through Prefect) and only its resolvers and two
constructors are replaced: a second YAML library would bring a second set of error types.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.composer import ComposerError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

#: Largest number of values (scalars, lists and mappings) a setup may expand to once every
#: alias is replaced by what it names. A national setup with 3,000 stations and wells of five
#: keys each has about 35,000.
MAX_EXPANDED_NODES = 200_000

#: Largest setup file read at all, in bytes.
MAX_FILE_BYTES = 10_000_000

#: Longest integer literal, in digits; ``10**400`` written out is refused at the line it is on.
MAX_INTEGER_DIGITS = 30

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


class SetupLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with the YAML 1.2 core schema for booleans and numbers, and a limit
    on alias expansion (see the module docstring)."""

    def compose_document(self) -> Node:
        node = super().compose_document()
        _check_expansion(node, self)
        return node

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if len(digits) > MAX_INTEGER_DIGITS:
            raise ConstructorError(None, None, f"a number of {len(digits)} digits is too large "
                                   f"(at most {MAX_INTEGER_DIGITS})", node.start_mark)
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        return sign * int(digits)  # a leading zero is decimal, as in YAML 1.2

    def construct_yaml_float(self, node: ScalarNode) -> float:
        text = str(self.construct_scalar(node)).replace("_", "").lower()
        if text.lstrip("+-") == ".inf":
            return -math.inf if text.startswith("-") else math.inf
        if text == ".nan":
            return math.nan
        return float(text)  # 1e400 becomes inf here, which the schema refuses as not finite


SetupLoader.add_constructor(_INT, SetupLoader.construct_yaml_int)
SetupLoader.add_constructor(_FLOAT, SetupLoader.construct_yaml_float)

# The YAML 1.1 resolvers of SafeLoader, less booleans and numbers, plus those of YAML 1.2 core.
SetupLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SetupLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
SetupLoader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?[0-9](?:_?[0-9])*|0x[0-9a-fA-F]+|0o[0-7]+)$"), list("-+0123456789"))
SetupLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"""^(?:[-+]?(?:\.[0-9]+|[0-9](?:_?[0-9])*(?:\.[0-9]*(?:_?[0-9])*)?)(?:[eE][-+]?[0-9]+)?
                  |[-+]?\.(?:inf|Inf|INF)
                  |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+.0123456789"),
)


def _check_expansion(root: Node | None, loader: SetupLoader) -> None:
    """Refuse a document whose aliases expand past ``MAX_EXPANDED_NODES`` values.

    Counted on the composed node graph, where an alias is the very node it names, with each
    node's expanded size computed once (so the check itself is linear in the file's size).
    """
    if root is None:
        return
    sizes: dict[int, int] = {}
    busy: set[int] = set()
    # An explicit stack instead of recursion: a deep document must not overflow Python's stack.
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not children_done:
            if key in busy:
                raise ComposerError(None, None, "an alias refers to a value that contains it "
                                    "(a recursive alias)", node.start_mark)
            busy.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        busy.discard(key)
        sizes[key] = 1 + sum(sizes[id(child)] for child in children)
        if sizes[key] > MAX_EXPANDED_NODES:
            raise ComposerError(None, None, f"aliases expand this document past {MAX_EXPANDED_NODES:_} "
                                "values; write the values out or use fewer nested aliases",
                                node.start_mark)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def read_setup_yaml(path: Path) -> Any:
    """The parsed content of a setup file. Raises ``yaml.YAMLError`` (with a mark where the
    parser has one) on bad YAML, a too large file, or an alias bomb."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise yaml.YAMLError(f"the file has {size:_} bytes; a setup file has at most {MAX_FILE_BYTES:_}")
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=SetupLoader)  # noqa: S506 - SetupLoader is a SafeLoader
