"""Email: compose a phone-readable headline email for one recipient (delivery.smtp sends it).

    compose(content, sender, recipient) -> EmailMessage
        multipart/mixed                           (only when files are attached)
        ├── multipart/alternative
        │   ├── text/plain                        the whole headline, readable as plain text
        │   └── multipart/related
        │       ├── text/html                     single column, max 600px, system fonts, big tap targets
        │       └── image/png ...                 MDC icons, referenced by cid:, each next to its letter + label
        └── application/... attachments           unless their total exceeds attach_limit_bytes; then the body
                                                  says where the files are (published link / link list / paths)

    delivery.smtp.send(settings, message) sends it (the SMTP conversation and its error boundary); the errors
    it raises are defined here, because composing can refuse a recipient too.

Only the standard library (smtplib, email, ssl) and Jinja2's autoescaping environment are used. Everything that
comes from data is escaped in the HTML part; the password never appears in a message, a repr or a log line.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from jinja2 import Environment, StrictUndefined

from reporting.charts.theme import Palette
from reporting.errors import DeliveryError
from reporting.mdc import ASSURANCE, VARIATION

__all__ = [
    "EmailContent",
    "EmailDeliveryError",
    "HeadlineItem",
    "AmbiguousDeliveryError",
    "PermanentDeliveryError",
    "TemporaryDeliveryError",
    "compose",
]

Security = Literal["starttls", "ssl", "none"]
SECURITY_MODES: tuple[str, ...] = ("starttls", "ssl", "none")
ENV_HOST, ENV_PORT, ENV_USER, ENV_PASSWORD = (
    "REPORTING_SMTP_HOST",
    "REPORTING_SMTP_PORT",
    "REPORTING_SMTP_USER",
    "REPORTING_SMTP_PASSWORD",
)


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
    variation_icon: str | None  # MDC code, a key of reporting.mdc.VARIATION
    assurance: str | None  # consistent_pass | consistent_fail | inconsistent | None
    narrative: str
    exception: bool

    def __post_init__(self) -> None:
        if self.variation_icon is not None and self.variation_icon not in VARIATION:
            raise ValueError(
                f"headline item {self.title!r}: unknown variation icon {self.variation_icon!r}; "
                f"expected one of {', '.join(sorted(VARIATION))} or None"
            )
        if self.assurance is not None and self.assurance not in ASSURANCE:
            raise ValueError(
                f"headline item {self.title!r}: unknown assurance {self.assurance!r}; "
                f"expected one of {', '.join(sorted(ASSURANCE))} or None"
            )


@dataclass(frozen=True)
class EmailContent:
    """What one email says; compose() turns it into a message for one recipient."""

    subject: str
    title: str
    intro: str  # plain text; blank lines separate paragraphs
    items: tuple[HeadlineItem, ...]
    attachments: tuple[Path, ...] = ()  # pack files
    links: tuple[tuple[str, str], ...] = ()  # (label, URL or filesystem path), always listed
    icon_images: Mapping[str, Path] = field(default_factory=lambda: MappingProxyType({}))  # MDC code -> PNG
    footer: str = ""  # classification, provenance, OGL line


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
    return (
        len(pairs) == 1
        and "@" in pairs[0][1]
        and " " not in pairs[0][1]
        and not pairs[0][1].startswith("@")
        and not pairs[0][1].endswith("@")
    )


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
    kind: str  # "Variation" | "Assurance"
    letter: str
    label: str
    colour: str
    cid: str | None  # None when no image was supplied: the text carries it alone


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


def _text_body(
    content: EmailContent,
    intro: list[str],
    groups: list[tuple[str, list[_Item]]],
    links: list[_Link],
    too_large: str | None,
    where: list[_Link],
    attached: list[tuple[str, str]],
    footer: list[str],
) -> str:
    out = [content.title, "=" * min(len(content.title), 70), ""]
    for p in intro:
        out += [p, ""]
    for heading, group in groups:
        out += [heading.upper(), ""]
        for entry in group:
            it = entry.item
            out.append(
                ("[EXCEPTION] " if it.exception else "")
                + f"{it.title}: {it.value_text}"
                + (f" ({it.period_label})" if it.period_label else "")
            )
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


def compose(
    content: EmailContent,
    sender: str,
    recipient: str,
    *,
    attach_limit_bytes: int = 10_000_000,
    published_link: str | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """The message for ONE recipient: plain text + HTML (with inline MDC icons), and the pack files attached
    unless together they exceed `attach_limit_bytes`, in which case both parts say where the files are
    (`published_link`, else the link list, else the file paths). A bad recipient address is a
    PermanentDeliveryError (code None); a missing attachment or icon file is a DeliveryError."""
    if not _is_address(recipient):
        raise PermanentDeliveryError(
            f"{recipient!r} is not a single email address; one recipient per message", recipient=recipient, code=None
        )
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
        head = (
            f"The pack files ({files}; {_human_size(total)} in all) are too large to attach to this email "
            f"(the limit is {_human_size(attach_limit_bytes)}), so they are not attached."
        )
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
    preheader = (
        f"{n_exc} measure{'s' if n_exc != 1 else ''} need{'s' if n_exc == 1 else ''} attention. "
        if n_exc
        else "No exceptions this period. "
    ) + (intro[0] if intro else "")

    text = _text_body(content, intro, groups, links, too_large, where, attached, footer)
    html = _HTML.render(
        title=content.title,
        intro=intro,
        groups=groups,
        links=links,
        too_large=too_large,
        where=where,
        attached=attached,
        footer=footer,
        preheader=preheader[:200],
        font=_FONT,
        concern=_PALETTE.concern,
    )

    msg = EmailMessage()
    msg["Subject"] = _one_line(content.subject)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id or make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a robot
    msg["X-Auto-Response-Suppress"] = "All"  # the same for Exchange / NHSmail
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
