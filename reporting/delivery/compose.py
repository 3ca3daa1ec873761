"""Compose a phone-readable headline email for one recipient (delivery.smtp sends it).

    compose(content, sender, recipient) -> EmailMessage
        multipart/mixed                           (only when files are attached)
        ├── multipart/alternative
        │   ├── text/plain                        the whole headline, readable as plain text
        │   └── multipart/related
        │       ├── text/html                     single column, max 600px, system fonts, big tap targets
        │       └── image/png ...                 MDC icons, referenced by cid:, each next to its letter + label
        └── application/... attachments           unless their total exceeds attach_limit_bytes; then the body
                                                  says where the files are (published link / link list / the
                                                  place in the outputs folder, in words)

An email never carries a server path: links come from the configured `publish.link_base` (`published_url`,
each path segment URL-quoted); without one the files are attached, or the email names where they are
published relative to the outputs folder ("weekly-executive/2025-08-25/RJ1/...").

    delivery.smtp.send(settings, message) sends it (the SMTP conversation and its error boundary); the errors
    it raises are defined here, because composing can refuse a recipient too.

The HTML part is the Jinja template templates/email.html.j2, rendered in an autoescaping sandbox, so
everything that comes from data is escaped; the text part is built here. Only the standard library (email)
and Jinja2 are used; the password never appears in a message, a repr or a log line.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from urllib.parse import quote

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from reporting.charts.theme import Palette
from reporting.errors import DeliveryError
from reporting.mdc import ASSURANCE, VARIATION

__all__ = [
    "EmailContent",
    "EmailDeliveryError",
    "HeadlineItem",
    "PackFile",
    "AmbiguousDeliveryError",
    "PermanentDeliveryError",
    "TemporaryDeliveryError",
    "compose",
    "published_url",
]

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
class PackFile:
    """A pack file given as the bytes to attach (a resend attaches exactly the bytes it checked, never a
    re-read of the path, which another writer could have replaced since)."""

    name: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class EmailContent:
    """What one email says; compose() turns it into a message for one recipient."""

    subject: str
    title: str
    intro: str  # plain text; blank lines separate paragraphs
    items: tuple[HeadlineItem, ...]
    attachments: tuple[Path | PackFile, ...] = ()  # pack files: a path (read when attached) or the bytes
    links: tuple[tuple[str, str], ...] = ()  # (label, URL from publish.link_base), always listed
    published_as: str = ""  # where the files are, relative to the outputs folder ("pack/period/org/")
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


def published_url(base: str, relative: PurePosixPath) -> str:
    """`relative` (a path under outputs/) under the configured link base. For a URL every segment is
    URL-quoted ("Board papers/a b.pdf" -> "Board%20papers/a%20b.pdf"); a path prefix (a shared drive,
    "\\\\server\\packs\\") is joined with its own separator, unquoted, as people type such paths."""
    parts = [p for p in relative.parts if p not in ("", "/")]
    if _URL.match(base.strip()):
        return base.rstrip("/") + "/" + "/".join(quote(p, safe="") for p in parts)
    separator = "\\" if "\\" in base and "/" not in base else "/"
    return base.rstrip(separator) + separator + separator.join(parts)


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


_ENV = SandboxedEnvironment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

_FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"

_HTML = _ENV.get_template("email.html.j2")


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
    (`published_link`, else the link list, else `published_as`: relative to outputs/, never a server path).
    A bad recipient address is a PermanentDeliveryError (code None); a missing attachment or icon file is a
    DeliveryError."""
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
    given: dict[str, bytes] = {}  # name -> the bytes to attach, for a PackFile
    for p in content.attachments:
        if isinstance(p, PackFile):
            sizes.append((Path(p.name), len(p.data)))
            given[p.name] = p.data
            continue
        path = Path(p)
        try:
            sizes.append((path, path.stat().st_size))
        except OSError as exc:
            raise DeliveryError(f"attachment cannot be read: {path}: {exc.strerror or exc}") from exc
    total = sum(s for _, s in sizes)
    attach = bool(sizes) and total <= attach_limit_bytes
    links = [_Link(label, target, bool(_URL.match(target.strip()))) for label, target in content.links]
    too_large: str | None = None
    where: list[_Link] = []  # the published link, else the files under published_as (no link list either)
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
        elif content.published_as:
            folder = content.published_as.rstrip("/") + "/"
            too_large = f"{head} They are published in the reporting outputs folder (the shared drive) as:"
            where = [_Link(p.name, folder + p.name, False) for p, _ in sizes]
        else:
            too_large = f"{head} Ask the sender where they are published."
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
        alternatives = msg.get_payload()  # multipart/alternative: [text/plain, text/html]
        assert isinstance(alternatives, list) and isinstance(alternatives[1], EmailMessage)
        html_part = alternatives[1]
        for cid, data, main, sub in images:
            html_part.add_related(data, maintype=main, subtype=sub, cid=f"<{cid}>", disposition="inline")
    if attach:
        for path, _ in sizes:
            main, sub = _mime_type(path)
            data = given[path.name] if path.name in given else path.read_bytes()
            msg.add_attachment(data, maintype=main, subtype=sub, filename=path.name)
    return msg
