"""YAML 1.2 core-schema scalars for PyYAML: `010` is ten, `1:30` and `no` are text, `1e3` is a number.

PyYAML resolves plain scalars by YAML 1.1, which silently turns `010` into 8, `1:30` into 90
and `no` into false. These resolver and loader classes tag plain scalars by the 1.2 core schema
instead (https://yaml.org/spec/1.2.2/#1032-tag-resolution), with libyaml's C parser where PyYAML
has it.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.composer import Composer
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
BOOL_TAG = "tag:yaml.org,2002:bool"
NULL_TAG = "tag:yaml.org,2002:null"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


class Core12Resolver(BaseResolver):
    """Implicit tags by the YAML 1.2 core schema, plus merge keys; everything else is text."""


for _tag, _regexp, _first in (
    (BOOL_TAG, BOOL, "tTfF"),
    (INT_TAG, INT, "-+0123456789"),
    (FLOAT_TAG, FLOAT, "-+.0123456789"),
    (NULL_TAG, NULL, ["~", "n", "N", ""]),
    (MERGE_TAG, re.compile(r"^(?:<<)$"), "<"),
):
    Core12Resolver.add_implicit_resolver(_tag, _regexp, list(_first))


class PyLoader(Reader, Scanner, Parser, Composer, Core12Resolver):
    """The pure-Python parser: used without libyaml, and for its more specific messages."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        Core12Resolver.__init__(self)


Loader: Any = PyLoader
try:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]
except ImportError:  # PyYAML built without libyaml
    pass
else:

    class CLoader(CParser, Core12Resolver):
        """libyaml's parser and composer with our resolver: fast, and it reads tabs in text."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Core12Resolver.__init__(self)

    Loader = CLoader


def using_libyaml() -> bool:
    """Whether routines and the config are parsed by libyaml's C parser."""
    return Loader is not PyLoader
