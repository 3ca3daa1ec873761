"""One redaction filter for every error path (command line, logs, run history, the owner's email).

Secrets only ever come from the environment; this is the last line that keeps them from leaving again when
an error message happens to quote one (a library's exception text, a file that was not what it claimed).
It masks
- the values of known secret variables: REPORTING_SMTP_PASSWORD, every source's `url_env` (registered when
  the catalogue is loaded), and any variable whose name contains PASSWORD, SECRET, TOKEN, KEY, CREDENTIAL or
  ends in _URL / _DSN;
- text shaped like a credential: the user:password part of a URL, and query parameters or `name=value` pairs
  whose name says key / token / secret / password / signature.
It sits below everything (imports nothing from the package), like errors.py.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping

__all__ = ["MASK", "RedactingFilter", "credential_in_url", "install_log_redaction", "redact", "register_secret_env"]

MASK = "********"
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL|_URL$|_DSN$", re.I)
_ALWAYS = {"REPORTING_SMTP_PASSWORD", "REPORTING_HISTORY_URL", "REPORTING_JOBSTORE_URL"}
_registered: set[str] = set()
#: user:password@ (or a bare token@) in anything URL-shaped
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<userinfo>[^/\s@?#]+)@", re.I)
_SECRET_PARAM_NAME = r"[a-z0-9_\-]*(?:key|token|secret|passw(?:or)?d|pwd|sig(?:nature)?|auth|credential)[a-z0-9_\-]*"
_SECRET_PARAM = re.compile(rf"(?P<name>\b{_SECRET_PARAM_NAME})(?P<sep>=)(?P<value>[^\s&;,'\"<>)]+)", re.I)
_MIN_SECRET = 4  # a named secret (SMTP password, url_env): shorter would mask ordinary words and numbers
_MIN_GUESSED = 8  # a variable only guessed to be secret from its name (e.g. SOME_KEY=true is not masked)


def register_secret_env(names: Iterable[str]) -> None:
    """Variables that hold secrets for this project (the catalogue's `url_env` names)."""
    _registered.update(n for n in names if n)


def _secret_values(environ: Mapping[str, str]) -> list[str]:
    values = {
        v
        for name, v in environ.items()
        if ((name in _ALWAYS or name in _registered) and len(v or "") >= _MIN_SECRET)
        or (_SECRET_NAME.search(name) and len(v or "") >= _MIN_GUESSED)
    }
    extra: set[str] = set()
    for v in values:  # a URL's password also appears on its own (drivers quote it)
        m = _URL_USERINFO.search(v)
        if m and ":" in m.group("userinfo"):
            password = m.group("userinfo").split(":", 1)[1]
            if len(password) >= _MIN_SECRET:
                extra.add(password)
    return sorted(values | extra, key=len, reverse=True)  # longest first: a URL before the password inside it


def redact(text: object, environ: Mapping[str, str] | None = None) -> str:
    """`text` with every known secret value and credential-shaped fragment replaced by ********."""
    out = str(text)
    for value in _secret_values(os.environ if environ is None else environ):
        out = out.replace(value, MASK)
    out = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", out)
    out = _SECRET_PARAM.sub(
        lambda m: f"{m.group('name')}{m.group('sep')}{MASK}" if m.group("value") != MASK else m.group(0), out
    )
    return out


def credential_in_url(url: str) -> str | None:
    """Why a URL written in YAML would carry a credential (None when it does not)."""
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    if parts.username or parts.password:
        return "it carries a user name or password"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if re.fullmatch(_SECRET_PARAM_NAME, name, re.I):
            return f"its query parameter {name!r} looks like a credential"
    return None


class RedactingFilter(logging.Filter):
    """Logging filter: the formatted message (and any exception text) passes through redact()."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        if record.exc_info:
            import traceback

            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def install_log_redaction(level: int = logging.INFO) -> None:
    """Every log line leaves through a redacting handler: add the filter to the root logger's handlers (one
    stderr handler when there is none). Handler filters see records from every logger, APScheduler's too."""
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler()
        stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stderr)
        root.setLevel(min(root.level or level, level))
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
