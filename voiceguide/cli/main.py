"""Command-line entry point: argument parsing and one-line errors; the work lives elsewhere."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

from voiceguide import __version__
from voiceguide.app.config import Config, load_config
from voiceguide.cli import completion as cli_completion
from voiceguide.cli import listen as cli_listen
from voiceguide.cli import models as cli_models
from voiceguide.cli import speech as cli_speech
from voiceguide.cli.log_setup import configure_logging
from voiceguide.errors import UserError
from voiceguide.speech_in.settings import ENGINES

log = logging.getLogger("voiceguide")
Handler = Callable[[argparse.Namespace, Config], int]
OVERRIDABLE = (
    "log_level", "routines_dir", "history_db", "locale", "voice", "rate_wpm", "volume",
    "output_device", "input_device", "engine", "verbosity",
)  # fmt: skip


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number greater than zero, not {text!r}")
    return value


def _cmd_list(args: argparse.Namespace, config: Config) -> int:
    from voiceguide.cli.routines import list_routines

    return list_routines(config)


def _cmd_plan(args: argparse.Namespace, config: Config) -> int:
    from voiceguide.cli.routines import print_plan

    return print_plan(config, args.routine)


def _cmd_run(args: argparse.Namespace, config: Config) -> int:
    from voiceguide.app.run import run_routine

    return run_routine(config, args.routine, text=args.text, speed=args.speed,
                       keep_history=not args.no_history)  # fmt: skip


def _cmd_lint(args: argparse.Namespace, config: Config) -> int:
    from voiceguide.content.lint import Vocabulary, run_lint

    vocabulary = None
    if config.engine in ("pocketsphinx", "neural"):  # neural: idle mode uses pocketsphinx
        from voiceguide.speech_in.engines.pocketsphinx_grammar import missing_words

        vocabulary = Vocabulary("the PocketSphinx dictionary", missing_words)
    # The locale in force must have a translation of every routine (`--locale ko lint`).
    return run_lint(args.paths or None, config.routines_folder(), frozenset([config.locale]),
                    vocabulary)  # fmt: skip


def _cmd_history(args: argparse.Namespace, config: Config) -> int:
    from voiceguide.cli.progress import print_history

    return print_history(config, limit=args.limit)


def _cmd_progress(args: argparse.Namespace, config: Config) -> int:
    from voiceguide.cli.progress import print_progress

    return print_progress(config, weeks=args.weeks, plot=args.plot)


def _cmd_doctor(args: argparse.Namespace, config: Config) -> int:
    from voiceguide.app.doctor import run_doctor

    return run_doctor(config)


def _cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from voiceguide.app.serve import serve

    return serve(config)


def _whole_weeks(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 104:
        raise argparse.ArgumentTypeError(f"must be from 1 to 104 weeks, not {text!r}")
    return value


def _add_verbosity(parser: argparse.ArgumentParser) -> None:
    # The choices are checked by the config validation, which words the one-line error.
    parser.add_argument("--verbosity", metavar="LEVEL",
                        help="how much is said: guided (all), brief or counts")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with one subcommand per user task."""
    parser = argparse.ArgumentParser(
        prog="voiceguide", description="An offline voice coach for back-care stretching."
    )
    parser.add_argument("--version", action="version", version=f"voiceguide {__version__}")
    parser.add_argument("--config", type=Path, help="config file to read (default: search)")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    settings = parser.add_argument_group("settings (override the config file)")
    settings.add_argument("--routines-dir", type=Path, metavar="DIR")
    settings.add_argument("--history-db", type=Path, metavar="FILE")
    settings.add_argument("--locale", metavar="LANG")
    settings.add_argument("--voice", metavar="NAME", help="espeak-ng voice, e.g. en-us")
    settings.add_argument("--rate-wpm", type=int, metavar="N", help="speech rate")
    settings.add_argument("--volume", type=float, metavar="0..1")
    settings.add_argument("--output-device", metavar="NAME|INDEX")
    settings.add_argument("--input-device", metavar="NAME|INDEX")
    settings.add_argument("--engine", choices=list(ENGINES))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("list", help="show the routines and how long each takes")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("plan", help="print every cue of a routine with its time offset")
    p.add_argument("routine", help="routine id, title or spoken alias")
    _add_verbosity(p)
    p.set_defaults(func=_cmd_plan)

    p = sub.add_parser("run", help="run a routine (console mode with --text)")
    p.add_argument("routine", help="routine id, title or spoken alias")
    p.add_argument("--text", action="store_true", help="print cues and read typed commands")
    p.add_argument("--speed", type=_positive_float, default=1.0,
                   help="run the clock N times faster (demos and tests)")  # fmt: skip
    p.add_argument("--no-history", action="store_true", help="do not record this session")
    _add_verbosity(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "lint", help="check routine files (default: routines_dir, else the built-in ones)"
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    p.set_defaults(func=_cmd_lint)

    p = sub.add_parser("history", help="show past sessions and pain reports")
    p.add_argument("--limit", type=int, default=20, help="how many sessions to show")
    p.set_defaults(func=_cmd_history)

    p = sub.add_parser("progress", help="streaks, sessions and minutes per week, pain by exercise")
    p.add_argument("--weeks", type=_whole_weeks, default=8, help="how many weeks (default 8)")
    p.add_argument("--plot", type=Path, metavar="FILE.png",
                   help="also draw the weeks as a chart (needs the 'plot' extra)")  # fmt: skip
    p.set_defaults(func=_cmd_progress)

    p = sub.add_parser("serve", help="long-running mode: wait for 'start <routine>' (systemd)")
    _add_verbosity(p)
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("doctor", help="check devices, mic level, engine, routines and history")
    p.set_defaults(func=_cmd_doctor)

    cli_speech.add_subcommands(sub)
    cli_listen.add_subcommands(sub)
    cli_models.add_subcommands(sub)
    cli_completion.add_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or bool(os.environ.get("VOICEGUIDE_DEBUG"))
    try:
        overrides = {key: getattr(args, key, None) for key in OVERRIDABLE}
        config = load_config(args.config, overrides)
        # Sentences for a person; "<4>"-style priorities when stderr is systemd's journal.
        configure_logging(config.log_level)
        handler: Handler = args.func
        code = handler(args, config)
        sys.stdout.flush()  # here, so a closed pipe is caught below rather than at exit
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except UserError as exc:
        print(f"voiceguide: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line for the user, the details with --debug
        if debug:
            raise
        print(f"voiceguide: internal error: {type(exc).__name__}: {exc} "
              "(run with --debug for details)", file=sys.stderr)  # fmt: skip
        return 70


def _closed_pipe() -> int:
    """The reader of our output went away (`voiceguide plan x | head -1`): end quietly."""
    # Python flushes stdout again at exit; pointed at /dev/null, that flush cannot fail too.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 128 + 13  # killed by SIGPIPE, as `yes | head -1` reports it
