"""Entry point for gunicorn (`gunicorn wsgi:app`) and for `flask` (FLASK_APP=wsgi.py)."""
import gc
import sys

from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # One line instead of a traceback. Exit status 4 is gunicorn's "app failed to load": its master
    # stops instead of restarting workers forever; `flask` exits with it too.
    print(f"Error: {exc}", file=sys.stderr)
    sys.exit(4)

# What loading the app made (modules, the models' metadata, the locales: ~146,000 objects) lives as
# long as the worker: left out of the cyclic garbage collector's full passes, which otherwise walked
# all of it every few requests (~130 ms on a city's province page, its p95; bench/README.md, "The
# city"). Objects made while serving are collected as before.
gc.collect()
gc.freeze()
