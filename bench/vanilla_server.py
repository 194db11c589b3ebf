"""Vanilla Radicale 3.9 under waitress (the WSGI server ``kalender serve`` uses).

``python bench/vanilla_server.py CONFIG PORT`` - same thread count (8) as kalender serve.
"""

from __future__ import annotations

import sys

import radicale
import radicale.config
import waitress
from radicale import log as radicale_log


def main(config: str, port: int) -> None:
    radicale_log.setup()
    configuration = radicale.config.load([(config, False)])
    radicale_log.set_level(configuration.get("logging", "level"), False)
    app = radicale.Application(configuration)
    waitress.serve(app, host="127.0.0.1", port=port, threads=8)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
