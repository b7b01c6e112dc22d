"""Where the default services migration (d1b330c0968f) imports them from: the catalogue now lives in
app.catalogue, and a released migration is never edited."""
from app.catalogue.operations import DEFAULT_SERVICES, insert_default_services

__all__ = ["DEFAULT_SERVICES", "insert_default_services"]
