"""The `micrograd` console script (also `python -m micrograd`): a thin layer that parses, calls and
prints. `micrograd train` runs the chapter's training run by default.

One module per subcommand, each with its flags (`add_parser`) and its `run`: `train`
(a `micrograd.run.Run`), `eval`, `graph`; `playground` lives in `micrograd.playground`. A user
mistake gives one line on stderr and exit code 2, never a traceback, and never replaces an
existing run folder without `--force`.
"""

from __future__ import annotations

import argparse
import sys

from micrograd import __version__
from micrograd.cli import eval as eval_command
from micrograd.cli import graph as graph_command
from micrograd.cli import train as train_command
from micrograd.cli.args import Parser
from micrograd.errors import EXIT_INTERRUPTED, EXIT_USAGE, EXIT_WRITE, UsageError
from micrograd.files import WriteFailed
from micrograd.streams import guarded

__all__ = ["EXIT_USAGE", "UsageError", "build_parser", "main"]

# the commands speak English, as the chapter's log does; the docs also speak the chapter's Chinese
DOCS = ("Docs: the docs/ folder of the repository (a site: mkdocs serve). "
        "中文文档：docs/index.zh.md（教程 docs/tutorial.zh.md，术语表 docs/glossary.zh.md）。")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="micrograd", description="micrograd-lab: scalar autograd, trained.",
                    epilog=DOCS)
    parser.add_argument("--version", action="version", version=f"micrograd-lab {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    train_command.add_parser(sub)
    eval_command.add_parser(sub)
    graph_command.add_parser(sub)
    from micrograd import playground  # its flags only: the server is imported when it runs

    playground.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; every way out is an exit code and at most one line on stderr."""
    with guarded() as (stdout, _stderr):
        code = _dispatch(argv)
        stdout.flush()
        if stdout.error is not None and code == 0:  # the command's output did not all arrive
            if not isinstance(stdout.error, BrokenPipeError):  # `| head`: the reader had enough
                print(f"micrograd: error: {stdout.why}", file=sys.stderr)
            code = stdout.exit_code
        return code


def _dispatch(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("missing command; try 'micrograd train' (see 'micrograd --help')")
        if args.command == "eval":
            return eval_command.run(args)
        if args.command == "graph":
            return graph_command.run(args)
        if args.command == "playground":
            from micrograd import playground

            return playground.run(args)
        return train_command.run(args)
    except UsageError as e:
        print(f"micrograd: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except WriteFailed as e:
        print(f"micrograd: error: {e}", file=sys.stderr)
        return EXIT_WRITE
    except KeyboardInterrupt:
        print("micrograd: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
