"""Entry point for gunicorn (`gunicorn wsgi:app`) and for `flask` (FLASK_APP=wsgi.py)."""
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
