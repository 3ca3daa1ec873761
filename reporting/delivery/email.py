"""Email: compose a phone-readable headline email for one recipient, and send it over SMTP.

    compose(content, sender, recipient) -> EmailMessage
        multipart/mixed                           (only when files are attached)
        ├── multipart/alternative
        │   ├── text/plain                        the whole headline, readable as plain text
        │   └── multipart/related
        │       ├── text/html                     single column, max 600px, system fonts, big tap targets
        │       └── image/png ...                 MDC icons, referenced by cid:, each next to its letter + label
        └── application/... attachments           unless their total exceeds attach_limit_bytes; then the body
                                                  says where the files are (published link / link list / paths)

    send(settings, message) -> None
        one SMTP conversation (STARTTLS, SMTPS or plain), login when a user is set; every failure leaves
        through ONE boundary as TemporaryDeliveryError (retry later) or PermanentDeliveryError (do not retry),
        each carrying .recipient and .code (the SMTP reply code, or None), the original exception chained.

Only the standard library (smtplib, email, ssl) and Jinja2's autoescaping environment are used. Everything that
comes from data is escaped in the HTML part; the password never appears in a message, a repr or a log line.
"""

from __future__ import annotations

import mimetypes
import os
import re
import secrets
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from jinja2 import Environment, StrictUndefined

from reporting.charts.alt_text import ASSURANCE, VARIATION
from reporting.charts.theme import Palette
from reporting.errors import ConfigError, DeliveryError

__all__ = [
    "EmailContent",
    "EmailDeliveryError",
    "HeadlineItem",
    "AmbiguousDeliveryError",
    "PermanentDeliveryError",
    "SmtpSettings",
    "TemporaryDeliveryError",
    "compose",
    "send",
]

Security = Literal["starttls", "ssl", "none"]
SECURITY_MODES: tuple[str, ...] = ("starttls", "ssl", "none")
ENV_HOST, ENV_PORT, ENV_USER, ENV_PASSWORD = (
    "REPORTING_SMTP_HOST", "REPORTING_SMTP_PORT", "REPORTING_SMTP_USER", "REPORTING_SMTP_PASSWORD")


# ----------------------------------------------------------------------------------------------------------- errors

class EmailDeliveryError(DeliveryError):
    """One recipient was not reached. `.recipient` is the address, `.code` the SMTP reply code (None when the
    server never answered: refused connection, timeout, TLS failure)."""

    def __init__(self, message: str, *, recipient: str | None = None, code: int | None = None) -> None:
        self.recipient, self.code = recipient, code
        super().__init__(message)


class TemporaryDeliveryError(EmailDeliveryError):
    """Worth retrying later: connection refused or timed out, a 4xx reply, the server hung up."""


class PermanentDeliveryError(EmailDeliveryError):
    """Retrying will not help: a 5xx reply (recipient refused, authentication failed), a bad address,
    a server that does not offer what the settings require."""


class AmbiguousDeliveryError(EmailDeliveryError):
    """The whole message went to the server (the final "." of DATA was sent) but no reply came back (time-out,
    the server hung up): it may have been accepted. Resending blindly could give the recipient a second copy,
    so the caller records the outcome as unknown instead of retrying."""


# ------------------------------------------------------------------------------------------------------ the content

@dataclass(frozen=True)
class HeadlineItem:
    """One metric in the email headline."""

    title: str
    value_text: str
    period_label: str
    variation_icon: str | None  # MDC code, a key of reporting.charts.alt_text.VARIATION
    assurance: str | None       # consistent_pass | consistent_fail | inconsistent | None
    narrative: str
    exception: bool

    def __post_init__(self) -> None:
        if self.variation_icon is not None and self.variation_icon not in VARIATION:
            raise ValueError(f"headline item {self.title!r}: unknown variation icon {self.variation_icon!r}; "
                             f"expected one of {', '.join(sorted(VARIATION))} or None")
        if self.assurance is not None and self.assurance not in ASSURANCE:
            raise ValueError(f"headline item {self.title!r}: unknown assurance {self.assurance!r}; "
                             f"expected one of {', '.join(sorted(ASSURANCE))} or None")


@dataclass(frozen=True)
class EmailContent:
    """What one email says; compose() turns it into a message for one recipient."""

    subject: str
    title: str
    intro: str                                            # plain text; blank lines separate paragraphs
    items: tuple[HeadlineItem, ...]
    attachments: tuple[Path, ...] = ()                    # pack files
    links: tuple[tuple[str, str], ...] = ()               # (label, URL or filesystem path), always listed
    icon_images: Mapping[str, Path] = field(default_factory=lambda: MappingProxyType({}))  # MDC code -> PNG
    footer: str = ""                                      # classification, provenance, OGL line


# ----------------------------------------------------------------------------------------------------- the settings

@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. The password is never shown by repr() and only ever comes from the environment."""

    host: str
    port: int
    security: Security
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30

    @classmethod
    def from_config(cls, host: str, port: int | str, security: str, sender: str, user: str | None = None, *,
                    environ: Mapping[str, str] = os.environ, file: object | None = None,
                    line: int | None = None, timeout: float = 30) -> SmtpSettings:
        """Settings from schedules.yaml `smtp:` overridden by REPORTING_SMTP_HOST / _PORT / _USER; the password
        only from REPORTING_SMTP_PASSWORD. `file`/`line` (the `smtp:` block) go into any ConfigError raised.
        An empty environment variable counts as unset."""

        def env(name: str) -> str | None:
            value = environ.get(name)
            return value if value not in (None, "") else None

        def fail(message: str, field_name: str) -> ConfigError:
            return ConfigError(message, file=file, line=line, field=field_name)

        host = env(ENV_HOST) or host
        if not host or not str(host).strip():
            raise fail(f"no SMTP host; set smtp.host or the environment variable {ENV_HOST}", "smtp.host")
        port_text = env(ENV_PORT)
        raw_port: object = port_text if port_text is not None else port
        where = f"environment variable {ENV_PORT}" if port_text is not None else "smtp.port"
        try:
            port_number = int(str(raw_port).strip())
        except ValueError:
            raise fail(f"SMTP port {raw_port!r} (from {where}) is not a whole number", where) from None
        if not 1 <= port_number <= 65535:
            raise fail(f"SMTP port {port_number} (from {where}) is outside 1..65535", where)
        if security not in SECURITY_MODES:
            raise fail(f"SMTP security {security!r} is not one of {', '.join(SECURITY_MODES)}", "smtp.security")
        if not _is_address(sender):
            raise fail(f"sender {sender!r} is not an email address", "smtp.from")
        user = env(ENV_USER) or user
        password = env(ENV_PASSWORD)
        if user and password is None:
            raise fail(f"SMTP user {user!r} is set but the environment variable {ENV_PASSWORD} is not; "
                       f"the password is only ever read from {ENV_PASSWORD}", ENV_PASSWORD)
        return cls(host=str(host).strip(), port=port_number, security=security,  # type: ignore[arg-type]
                   sender=sender, user=user or None, password=password if user else None, timeout=timeout)


# ----------------------------------------------------------------------------------------------------------- compose

_OFFICE_TYPES = {
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
_URL = re.compile(r"^(https?|mailto|file):", re.IGNORECASE)
_PALETTE = Palette()


def _is_address(text: str) -> bool:
    pairs = getaddresses([text or ""])
    return (len(pairs) == 1 and "@" in pairs[0][1] and " " not in pairs[0][1]
            and not pairs[0][1].startswith("@") and not pairs[0][1].endswith("@"))


def _one_line(text: str) -> str:
    """Header values from data: no line breaks (header injection), collapsed whitespace."""
    return " ".join(str(text).split())


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def _human_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1_000_000:.1f} MB"


def _mime_type(path: Path) -> tuple[str, str]:
    kind = _OFFICE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    main, _, sub = kind.partition("/")
    return main, sub


@dataclass(frozen=True)
class _Icon:
    kind: str            # "Variation" | "Assurance"
    letter: str
    label: str
    colour: str
    cid: str | None      # None when no image was supplied: the text carries it alone


@dataclass(frozen=True)
class _Item:
    item: HeadlineItem
    icons: tuple[_Icon, ...]


@dataclass(frozen=True)
class _Link:
    label: str
    target: str
    is_url: bool


_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

_FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"

_HTML = _ENV.from_string("""\
<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<title>{{ title }}</title>
</head>
<body style="margin:0;padding:0;background:#F0F4F5;color:#212B32;font-family:{{ font }};">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">{{ preheader }}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#F0F4F5;">
<tr><td align="center" style="padding:12px 8px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background:#FFFFFF;border-radius:6px;">
<tr><td style="background:#005EB8;padding:18px 20px;border-radius:6px 6px 0 0;">
<h1 style="margin:0;font-family:{{ font }};font-size:22px;line-height:1.3;color:#FFFFFF;font-weight:bold;">{{ title }}</h1>
</td></tr>
<tr><td style="padding:16px 20px 8px 20px;font-family:{{ font }};font-size:16px;line-height:1.5;color:#212B32;">
{% for p in intro %}
<p style="margin:0 0 12px 0;">{{ p }}</p>
{% endfor %}
{% for heading, group in groups %}
<h2 style="margin:20px 0 10px 0;font-size:19px;line-height:1.3;color:#212B32;">{{ heading }}</h2>
{% for entry in group %}
{% set it = entry.item %}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 12px 0;border:1px solid #D8DDE0;{% if it.exception %}border-left:6px solid {{ concern }};{% else %}border-left:6px solid #D8DDE0;{% endif %}">
<tr><td style="padding:12px 14px;font-family:{{ font }};">
{% if it.exception %}
<p style="margin:0 0 4px 0;font-size:13px;font-weight:bold;letter-spacing:0.04em;text-transform:uppercase;color:#7A4B00;">&#9888; Exception</p>
{% endif %}
<h3 style="margin:0;font-size:17px;line-height:1.35;color:#212B32;">{{ it.title }}</h3>
<p style="margin:4px 0 8px 0;font-size:24px;line-height:1.25;font-weight:bold;color:#212B32;">{{ it.value_text }}{% if it.period_label %} <span style="font-size:14px;font-weight:normal;color:#4C6272;white-space:nowrap;">{{ it.period_label }}</span>{% endif %}</p>
{% if entry.icons %}
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 6px 0;">
{% for icon in entry.icons %}
<tr>
<td width="36" valign="middle" style="padding:2px 8px 2px 0;">{% if icon.cid %}<img src="cid:{{ icon.cid }}" alt="{{ icon.kind }}:" width="28" height="28" style="display:block;width:28px;height:28px;border:0;">{% else %}<span style="display:inline-block;width:28px;height:28px;line-height:28px;text-align:center;border-radius:14px;background:{{ icon.colour }};color:#FFFFFF;font-size:12px;font-weight:bold;" aria-hidden="true">{{ icon.letter }}</span>{% endif %}</td>
<td valign="middle" style="padding:2px 0;font-family:{{ font }};font-size:15px;line-height:1.35;color:#212B32;"><strong>{{ icon.letter }}</strong> {{ icon.label }}</td>
</tr>
{% endfor %}
</table>
{% endif %}
{% if it.narrative %}
<p style="margin:0;font-size:16px;line-height:1.5;color:#212B32;">{{ it.narrative }}</p>
{% endif %}
</td></tr>
</table>
{% endfor %}
{% endfor %}
{% if too_large %}
<h2 style="margin:20px 0 10px 0;font-size:19px;line-height:1.3;color:#212B32;">Where the files are</h2>
<div style="margin:0 0 12px 0;padding:12px 14px;background:#FFF9C4;border:1px solid #D8DDE0;">
<p style="margin:0;">{{ too_large }}</p>
{% for w in where %}
{% if w.is_url %}
<p style="margin:10px 0 0 0;"><a href="{{ w.target }}" style="display:block;padding:12px 14px;background:#005EB8;border-radius:4px;font-size:17px;line-height:1.3;font-weight:bold;color:#FFFFFF;text-decoration:underline;">{{ w.label }}</a></p>
<p style="margin:6px 0 0 0;font-size:14px;word-break:break-all;color:#4C6272;">{{ w.target }}</p>
{% else %}
<p style="margin:8px 0 0 0;font-family:Consolas,Menlo,'Courier New',monospace;font-size:14px;word-break:break-all;">{{ w.target }}</p>
{% endif %}
{% endfor %}
</div>
{% endif %}
{% if links %}
<h2 style="margin:20px 0 10px 0;font-size:19px;line-height:1.3;color:#212B32;">Open the pack</h2>
{% for link in links %}
{% if link.is_url %}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 10px 0;"><tr><td style="background:#005EB8;border-radius:4px;">
<a href="{{ link.target }}" style="display:block;padding:14px 16px;font-family:{{ font }};font-size:17px;line-height:1.3;font-weight:bold;color:#FFFFFF;text-decoration:underline;">{{ link.label }}</a>
</td></tr></table>
{% else %}
<div style="margin:0 0 10px 0;padding:12px 14px;border:1px solid #D8DDE0;border-radius:4px;">
<div style="font-size:16px;font-weight:bold;">{{ link.label }}</div>
<div style="margin-top:4px;font-family:Consolas,Menlo,'Courier New',monospace;font-size:14px;word-break:break-all;color:#212B32;">{{ link.target }}</div>
</div>
{% endif %}
{% endfor %}
{% endif %}
{% if attached %}
<h2 style="margin:20px 0 10px 0;font-size:19px;line-height:1.3;color:#212B32;">Attached</h2>
<ul style="margin:0 0 12px 0;padding-left:20px;">
{% for name, size in attached %}
<li style="margin:0 0 4px 0;">{{ name }} <span style="color:#4C6272;">({{ size }})</span></li>
{% endfor %}
</ul>
{% endif %}
</td></tr>
{% if footer %}
<tr><td style="padding:12px 20px 18px 20px;border-top:1px solid #D8DDE0;font-family:{{ font }};font-size:13px;line-height:1.5;color:#4C6272;">
{% for line in footer %}
<p style="margin:0 0 6px 0;">{{ line }}</p>
{% endfor %}
</td></tr>
{% endif %}
</table>
</td></tr></table>
</body>
</html>
""")


def _icons(item: HeadlineItem, cids: Mapping[str, str]) -> tuple[_Icon, ...]:
    icons = []
    for kind, code, table in (("Variation", item.variation_icon, VARIATION), ("Assurance", item.assurance, ASSURANCE)):
        if code is None:
            continue
        letter, colour, label = table[code]
        icons.append(_Icon(kind, letter, label, getattr(_PALETTE, colour, _PALETTE.common_cause), cids.get(code)))
    return tuple(icons)


def _text_body(content: EmailContent, intro: list[str], groups: list[tuple[str, list[_Item]]],
               links: list[_Link], too_large: str | None, where: list[_Link],
               attached: list[tuple[str, str]], footer: list[str]) -> str:
    out = [content.title, "=" * min(len(content.title), 70), ""]
    for p in intro:
        out += [p, ""]
    for heading, group in groups:
        out += [heading.upper(), ""]
        for entry in group:
            it = entry.item
            out.append(("[EXCEPTION] " if it.exception else "") + f"{it.title}: {it.value_text}"
                       + (f" ({it.period_label})" if it.period_label else ""))
            for icon in entry.icons:
                out.append(f"  {icon.kind}: [{icon.letter}] {icon.label}")
            if it.narrative:
                out.append(f"  {it.narrative}")
            out.append("")
    if too_large:
        out += ["WHERE THE FILES ARE", "", too_large, *(f"  {w.target}" for w in where), ""]
    if links:
        out += ["OPEN THE PACK", ""]
        out += [f"- {link.label}: {link.target}" for link in links]
        out.append("")
    if attached:
        out += ["ATTACHED", ""]
        out += [f"- {name} ({size})" for name, size in attached]
        out.append("")
    if footer:
        out += ["--", *footer]
    return "\n".join(out).rstrip() + "\n"


def delivery_message_id(sender: str, *key: object) -> str:
    """A Message-ID that is the same for the same (job, period, recipient, pack content): a resend of the
    same pack is recognisably the same message (mail systems and clients deduplicate by it)."""
    import hashlib

    domain = getaddresses([sender])[0][1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256("\0".join(str(k) for k in key).encode()).hexdigest()[:40]
    return f"<reporting.{digest}@{domain}>"


def compose(content: EmailContent, sender: str, recipient: str, *, attach_limit_bytes: int = 10_000_000,
            published_link: str | None = None, message_id: str | None = None) -> EmailMessage:
    """The message for ONE recipient: plain text + HTML (with inline MDC icons), and the pack files attached
    unless together they exceed `attach_limit_bytes`, in which case both parts say where the files are
    (`published_link`, else the link list, else the file paths). A bad recipient address is a
    PermanentDeliveryError (code None); a missing attachment or icon file is a DeliveryError."""
    if not _is_address(recipient):
        raise PermanentDeliveryError(f"{recipient!r} is not a single email address; one recipient per message",
                                     recipient=recipient, code=None)
    if not _is_address(sender):
        raise DeliveryError(f"sender {sender!r} is not an email address")

    # exceptions first, otherwise in the order given
    ordered = [i for i in content.items if i.exception] + [i for i in content.items if not i.exception]

    # inline icons: only the ones this email uses, each once
    domain = getaddresses([sender])[0][1].rpartition("@")[2] or "localhost"
    used = [code for it in ordered for code in (it.variation_icon, it.assurance) if code is not None]
    cids: dict[str, str] = {}
    images: list[tuple[str, bytes, str, str]] = []  # cid, data, maintype, subtype
    for code in dict.fromkeys(used):
        path = content.icon_images.get(code)
        if path is None:
            continue
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DeliveryError(f"icon image for {code!r} cannot be read: {path}: {exc.strerror or exc}") from exc
        cids[code] = f"{code.replace('_', '-')}.{secrets.token_hex(6)}@{domain}"  # short: never folded
        main, sub = _mime_type(path)
        images.append((cids[code], data, main, sub))
    items = [_Item(it, _icons(it, cids)) for it in ordered]
    exceptions = [e for e in items if e.item.exception]
    others = [e for e in items if not e.item.exception]
    groups: list[tuple[str, list[_Item]]] = []
    if exceptions:
        groups.append((f"Needs attention ({len(exceptions)})", exceptions))
    if others:
        groups.append(("Other measures" if exceptions else "Measures", others))

    # attachments or where they are
    sizes: list[tuple[Path, int]] = []
    for p in content.attachments:
        path = Path(p)
        try:
            sizes.append((path, path.stat().st_size))
        except OSError as exc:
            raise DeliveryError(f"attachment cannot be read: {path}: {exc.strerror or exc}") from exc
    total = sum(s for _, s in sizes)
    attach = bool(sizes) and total <= attach_limit_bytes
    links = [_Link(label, target, bool(_URL.match(target.strip()))) for label, target in content.links]
    too_large: str | None = None
    where: list[_Link] = []  # the published link, else the file paths (when there is no link list either)
    if sizes and not attach:
        files = ", ".join(p.name for p, _ in sizes)
        head = (f"The pack files ({files}; {_human_size(total)} in all) are too large to attach to this email "
                f"(the limit is {_human_size(attach_limit_bytes)}), so they are not attached.")
        if published_link:
            too_large = f"{head} They are published at:"
            where = [_Link("Open the published files", published_link, bool(_URL.match(published_link.strip())))]
        elif links:
            too_large = f"{head} Open them from the links below."
        else:
            too_large = f"{head} They are at:"
            where = [_Link(p.name, str(p), False) for p, _ in sizes]
    attached = [(p.name, _human_size(s)) for p, s in sizes] if attach else []

    intro = _paragraphs(content.intro)
    footer = [line.strip() for line in (content.footer or "").splitlines() if line.strip()]
    n_exc = len(exceptions)
    preheader = (f"{n_exc} measure{'s' if n_exc != 1 else ''} need{'s' if n_exc == 1 else ''} attention. "
                 if n_exc else "No exceptions this period. ") + (intro[0] if intro else "")

    text = _text_body(content, intro, groups, links, too_large, where, attached, footer)
    html = _HTML.render(title=content.title, intro=intro, groups=groups, links=links, too_large=too_large,
                        where=where,
                        attached=attached, footer=footer, preheader=preheader[:200], font=_FONT,
                        concern=_PALETTE.concern)

    msg = EmailMessage()
    msg["Subject"] = _one_line(content.subject)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id or make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"          # RFC 3834: no auto-replies to a robot
    msg["X-Auto-Response-Suppress"] = "All"           # the same for Exchange / NHSmail
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    if images:
        html_part = msg.get_payload()[1]
        for cid, data, main, sub in images:
            html_part.add_related(data, maintype=main, subtype=sub, cid=f"<{cid}>", disposition="inline")
    if attach:
        for path, _ in sizes:
            main, sub = _mime_type(path)
            msg.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    return msg


# -------------------------------------------------------------------------------------------------------------- send

def _reply_text(raw: object) -> str:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return str(raw)


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "********") if secret else text


def _classified(code: int | None, message: str, recipient: str) -> EmailDeliveryError:
    cls = PermanentDeliveryError if code is not None and 500 <= code < 600 else TemporaryDeliveryError
    return cls(message, recipient=recipient, code=code)


def _translate(exc: smtplib.SMTPException | OSError, settings: SmtpSettings, recipient: str) -> EmailDeliveryError:
    """The one place where smtplib/ssl/socket failures become delivery errors."""
    where = f"{settings.host}:{settings.port}"

    def say(text: str) -> str:
        return _scrub(f"email to {recipient} via {where}: {text}", settings.password)

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = exc.recipients.get(recipient) or next(iter(exc.recipients.values()), (None, b""))
        return _classified(code, say(f"recipient refused: {code} {_reply_text(reply)}"), recipient)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _classified(exc.smtp_code, say(f"login as {settings.user!r} failed: {exc.smtp_code} "
                                              f"{_reply_text(exc.smtp_error)}"), recipient)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code if isinstance(exc.smtp_code, int) and exc.smtp_code > 0 else None
        what = {smtplib.SMTPSenderRefused: "sender refused", smtplib.SMTPDataError: "message refused",
                smtplib.SMTPConnectError: "server refused the connection",
                smtplib.SMTPHeloError: "server refused the greeting"}.get(type(exc), "server said")
        return _classified(code, say(f"{what}: {exc.smtp_code} {_reply_text(exc.smtp_error)}"), recipient)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TemporaryDeliveryError(say(f"server disconnected: {exc}"), recipient=recipient, code=None)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentDeliveryError(say(f"server does not support what the settings need "
                                          f"(security={settings.security}): {exc}"), recipient=recipient, code=None)
    if isinstance(exc, smtplib.SMTPException):
        return PermanentDeliveryError(say(str(exc)), recipient=recipient, code=None)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentDeliveryError(say(f"TLS certificate not trusted: {exc.verify_message or exc}"),
                                      recipient=recipient, code=None)
    if isinstance(exc, ssl.SSLError):
        return TemporaryDeliveryError(say(f"TLS failed: {exc}"), recipient=recipient, code=None)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return TemporaryDeliveryError(say(f"timed out after {settings.timeout:g} s"), recipient=recipient, code=None)
    if isinstance(exc, ConnectionRefusedError):
        return TemporaryDeliveryError(say("connection refused (is the SMTP server running?)"),
                                      recipient=recipient, code=None)
    return TemporaryDeliveryError(say(f"could not reach the server: {exc}"), recipient=recipient, code=None)


class _Committing:
    """smtplib client that knows when the message is committed: the server accepts a message only on the
    final CRLF.CRLF of DATA, so a failure before it is a clean failure (the server discards the message) and
    a failure after it, without a reply, is ambiguous. `on_commit` runs just before that last write, so a
    caller can durably record "committed" first."""

    on_commit: Callable[[], None] | None = None
    committed = False

    def send(self, s: bytes | str) -> None:  # smtplib's own socket write, used for every command and DATA
        final = isinstance(s, bytes) and s.endswith(b"\r\n.\r\n") and getattr(self, "_in_data", False)
        if final and self.on_commit is not None:
            try:
                self.on_commit()
            except BaseException:
                self.close()  # mid-DATA without the final ".": the server discards the message
                raise
        super().send(s)  # type: ignore[misc]
        if final:
            self.committed = True

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        self._in_data = True
        try:
            return super().data(msg)  # type: ignore[misc,no-any-return]
        finally:
            self._in_data = False


class _SMTP(_Committing, smtplib.SMTP):
    pass


class _SMTP_SSL(_Committing, smtplib.SMTP_SSL):  # noqa: N801 - smtplib's name
    pass


def send(settings: SmtpSettings, message: EmailMessage, *, ssl_context: ssl.SSLContext | None = None,
         on_commit: Callable[[], None] | None = None) -> None:
    """Deliver `message` (one recipient, its To header) in one SMTP conversation.

    security: "starttls" (plain connect, then STARTTLS, required), "ssl" (SMTPS from the first byte), "none".
    `ssl_context` defaults to ssl.create_default_context() (verifies the certificate and host name); tests pass
    one that trusts their self-signed certificate. `on_commit` is called just before the final "." of DATA.
    Raises TemporaryDeliveryError or PermanentDeliveryError (the server did not take the message), or
    AmbiguousDeliveryError (it was sent whole but no reply came: it may have been accepted)."""
    recipients = [addr for _, addr in getaddresses(message.get_all("To", []))]
    if len(recipients) != 1 or not _is_address(recipients[0]):
        raise PermanentDeliveryError(f"a message must have exactly one recipient in To:, got {message['To']!r}",
                                     recipient=str(message["To"]), code=None)
    recipient = recipients[0]
    context = ssl_context
    if context is None and settings.security != "none":
        context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    try:
        if settings.security == "ssl":
            client = _SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            client = _SMTP(settings.host, settings.port, timeout=settings.timeout)
        client.on_commit = on_commit  # type: ignore[attr-defined]
        client.ehlo()
        if settings.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if settings.user:
            client.login(settings.user, settings.password or "")
        refused = client.send_message(message, from_addr=settings.sender, to_addrs=[recipient])
        if refused:  # only possible with several recipients; kept for safety
            raise smtplib.SMTPRecipientsRefused(refused)
    except (smtplib.SMTPException, OSError) as exc:  # the one boundary (ssl.SSLError, TimeoutError are OSErrors)
        replied = isinstance(exc, smtplib.SMTPResponseException) and isinstance(exc.smtp_code, int) \
            and exc.smtp_code > 0
        if client is not None and getattr(client, "committed", False) and not replied:
            raise AmbiguousDeliveryError(
                _scrub(f"email to {recipient} via {settings.host}:{settings.port}: the whole message was sent but "
                       f"the server did not confirm it ({type(exc).__name__}: {exc or 'no reply'}); it may have "
                       f"been delivered, so it is not resent automatically", settings.password),
                recipient=recipient, code=None) from exc
        raise _translate(exc, settings, recipient) from exc
    finally:
        if client is not None:
            try:
                client.quit()
            except Exception:  # noqa: BLE001 - the conversation is over either way
                client.close()
