"""`micrograd playground`: train a small network in the browser and watch every gradient.

A local web page (TensorFlow-Playground-like: data, network, boundary, neuron tiles, loss curves)
driven by this package's own engine, with the live computation graph of one datapoint. This
module holds only the command's flags and its dependency check, so importing it (as `micrograd.cli`
does) imports nothing but the standard library; the server (`server.py`, Starlette on uvicorn) is
imported when the command runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from micrograd.errors import EXIT_USAGE, UsageError
from micrograd.settings import number_problem, parse_int, show

REQUIRES = ("starlette", "uvicorn", "websockets", "numpy")  # the `playground` extra
# micrograd-lab is installed from a clone (README): the extra is named both ways
INSTALL = ("pip install -e '.[playground]' in the clone (pip install 'micrograd-lab[playground]' "
           "from a wheel)")


def _port(text: str) -> int:
    port = parse_int(text)
    if port is None:
        raise argparse.ArgumentTypeError(f"{show(text)} is not a port number")
    typed = text if len(text) <= 40 else None
    if problem := number_problem(port, 0, 65535, integer=True, typed=typed):
        raise argparse.ArgumentTypeError(f"{problem} (0: a free one)")
    return port


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The `playground` subcommand's flags."""
    p = sub.add_parser(
        "playground", help="train in the browser and watch every gradient (a local web page)",
        description="Serve the micrograd playground on this machine and open it in the browser: "
                    "pick a dataset, shape the network, press play, and watch the decision "
                    "boundary, the hidden neurons and one datapoint's computation graph "
                    f"(every data and grad) update as it trains. Needs {INSTALL}.")
    p.add_argument("--port", type=_port, default=8765, help="TCP port (default 8765; 0: any "
                   "free port, printed)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only; another "
                        "address lets other machines in, with a warning)")
    p.add_argument("--no-browser", action="store_true", help="print the URL, open no browser")
    p.add_argument("--export", metavar="DIR", type=Path,
                   help="serve nothing: write the playground as a static folder DIR (the page, "
                        "Pyodide, viz.js and this package's wheel) that any web server can host; "
                        "the model trains in the visitor's browser")
    p.add_argument("--runtime-from", metavar="PATH", type=Path, action="append",
                   help="with --export: take Pyodide's and viz.js's npm tarballs from PATH (a "
                        "folder holding them, or a .tgz file; repeatable) instead of the cache or "
                        "the npm registry")


def missing_dependencies() -> list[str]:
    return [name for name in REQUIRES if importlib.util.find_spec(name) is None]


def run(args: argparse.Namespace) -> int:
    """Export (--export), or check the extra is installed, then serve until Ctrl-C. Returns the
    exit code."""
    if args.export is not None:
        return run_export(args.export, args.runtime_from)
    if args.runtime_from:
        raise UsageError("--runtime-from only goes with --export DIR")
    missing = missing_dependencies()
    if missing:
        print(f"micrograd: error: the playground needs {', '.join(missing)}: {INSTALL}",
              file=sys.stderr)
        return EXIT_USAGE
    from micrograd.playground.server import serve

    return serve(args.host, args.port, not args.no_browser)


def run_export(folder: Path, runtime_from: list[Path] | None) -> int:
    """`--export DIR`: write the static playground and say how to serve it."""
    from micrograd.playground.export import export as write_export

    done = write_export(folder, runtime_from)
    print(f"micrograd playground: exported to {folder} ({len(done.files)} files, "
          f"{done.size / 1e6:.1f} MB), {done.note}; try it with `python -m http.server "
          f"--bind 127.0.0.1 --directory {folder}` and http://127.0.0.1:8000/, or copy the "
          "folder to any web host")
    return 0
