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

REQUIRES = ("starlette", "uvicorn", "websockets", "numpy")  # the `playground` extra
INSTALL = "pip install 'micrograd-lab[playground]'"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range 0..65535 (0: a free one)")
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


def missing_dependencies() -> list[str]:
    return [name for name in REQUIRES if importlib.util.find_spec(name) is None]


def run(args: argparse.Namespace) -> int:
    """Check the extra is installed, then serve until Ctrl-C. Returns the exit code."""
    missing = missing_dependencies()
    if missing:
        print(f"micrograd: error: the playground needs {', '.join(missing)}: {INSTALL}",
              file=sys.stderr)
        return 2
    from micrograd.playground.server import serve

    return serve(args.host, args.port, not args.no_browser)
