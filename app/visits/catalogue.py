"""Where the default services migration (d1b330c0968f) imports them from: the catalogue now lives in
app.catalogue, and a released migration is never edited."""
from app.catalogue.operations import DEFAULT_SERVICES
from app.catalogue.operations import insert_default_services as _insert

__all__ = ["DEFAULT_SERVICES", "insert_default_services"]


def insert_default_services(connection) -> int:
    """The catalogue's, as that migration's schema has it: services had no files_dossiers yet (f4b8c2d6e1a3
    adds it and marks the default ones)."""
    return _insert(connection, dossier_flag=False)
