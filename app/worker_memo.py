"""Results kept in a worker's memory under cache tokens: values the database's triggers replace (table
cache_tokens) in the transaction that changes what a result was read from.

A result is kept per (its tokens, its question). The caller reads the tokens before the rows (one
statement per request: app/coverage/rollup.py `_tokens`), so a change committed in between leaves a
fresh result under a stale token, never the reverse; a result kept under an old token is never asked
for again and falls out of the bounded cache. With a token missing (None: a database emptied by hand,
no trigger has run yet) the result is read every time.

Kept here: a unit's children, its leaves' count changes and its children's running household totals,
the adult roll-up (app/coverage/rollup.py), the commune map and month figures (app/coverage/by_commune.py),
a reorganized unit's "before 07/2025" note, "has the map changed since" and which new commune carries each
ended one's shifts and dossier totals (app/units/history.py), the
active services, every service's code, a province's target milestones and a team's order of its services
for the day (app/catalogue/operations.py),
a team's hamlets and members (app/visits/roster.py), the signed-in user with their unit and team
(app/auth/models.py). Each is held to its plain read after every kind of change by the tests named beside
it."""
from functools import lru_cache, wraps


def kept_under_tokens(maxsize: int):
    """Decorate read(*question): the result is get(tokens, *question), a tuple of tokens first,
    read once per tokens and question (at most `maxsize` kept); read each time if a token is None.
    Nothing may change a result once returned: every caller of the same question shares it."""
    def decorate(read):
        remembered = lru_cache(maxsize=maxsize)(lambda tokens, *question: read(*question))

        @wraps(read)
        def get(tokens: tuple, *question):
            if None in tokens:
                return read(*question)
            return remembered(tokens, *question)
        get.cache_clear = remembered.cache_clear
        return get
    return decorate
