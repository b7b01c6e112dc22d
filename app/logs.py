"""Log lines operators can use: each time carries its zone (servers often run in UTC, users in UTC+7)."""
import logging

from flask import Flask
from flask.logging import default_handler

FORMAT = "[%(asctime)s] %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"


def init_app(app: Flask) -> None:
    default_handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
