"""Storage URLs as they may be shown or stored: the password replaced by `***`.

A study database URL may carry a password (`postgresql+psycopg://user:PASSWORD@host/db`). pointlab
prints the URL in its report and its error lines and writes it into `sweep.json`; it must never
print or store the password, so every such place shows `masked(url)`, which hides it the way
SQLAlchemy does (`URL.render_as_string(hide_password=True)`: `user:***@host`). A URL SQLAlchemy
cannot parse (the error is then about that) is masked by its shape: anything between `user:` and
the last `@` before the host.

Not here: opening the database (`store.open_storage`), what the report holds (`report`).
"""

from __future__ import annotations

import re

# scheme://user:password@rest: the password may hold ':' and '@' (the last '@' ends it, as
# SQLAlchemy's parser reads it), but no '/' before the host.
_SHAPE = re.compile(r"^(?P<head>[^:/]+://[^:/@]*:)(?P<password>.*)@(?P<host>[^@]*)$", re.DOTALL)


def masked(url: str) -> str:
    """`url` with its password, if any, replaced by `***`; otherwise `url` unchanged."""
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:  # not a URL SQLAlchemy reads: mask by shape
        return _by_shape(url)
    if parsed.password is None:
        return _by_shape(url)  # unchanged: SQLAlchemy would re-quote parts the user wrote
    return parsed.render_as_string(hide_password=True)


def _by_shape(url: str) -> str:
    match = _SHAPE.match(url.split("?", 1)[0])
    if match is None:
        return url
    return match["head"] + "***@" + url[match.end("password") + 1 :]
