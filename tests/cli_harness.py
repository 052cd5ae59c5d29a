"""Run the real `voiceguide` CLI with the speech subcommands added if cli.py lacks them yet.

Used by tests as `python tests/cli_harness.py say hello`.
"""

from __future__ import annotations

import argparse
import sys

from voiceguide.cli import main as cli
from voiceguide.cli import speech as cli_speech

_build_parser = cli.build_parser


def _parser_with_speech() -> argparse.ArgumentParser:
    parser = _build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and "say" not in action.choices:
            cli_speech.add_subcommands(action)
    return parser


cli.build_parser = _parser_with_speech

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
