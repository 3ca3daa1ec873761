"""Email: real messages through a real SMTP server (aiosmtpd on 127.0.0.1), parsed back and checked."""

from __future__ import annotations

import hashlib
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from smtp_server import SmtpTestServer

from reporting.delivery.compose import (
    EmailContent,
    HeadlineItem,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    compose,
)
from reporting.delivery.smtp import SmtpSettings, send
from reporting.errors import ConfigError, DeliveryError

SENDER = "Performance Reports <reports@trust.nhs.uk>"
AMY = "amy.jones@trust.nhs.uk"
BOB = "bob.evans@trust.nhs.uk"

A_AND_E = HeadlineItem(
    "A&E 4-hour performance",
    "71.3%",
    "October 2025",
    "concern_low",
    "consistent_fail",
    "Performance has been below the mean for 8 months in a row.",
    exception=False,
)
RTT = HeadlineItem(
    "RTT 18 weeks",
    "58.9%",
    "September 2025",
    "common_cause",
    "inconsistent",
    "Common cause variation; the 92% target will be met only inconsistently.",
    exception=False,
)
CANCER = HeadlineItem(
    "Cancer 62-day",
    "74.0%",
    "September 2025",
    "improvement_high",
    None,
    "Special cause improvement since May 2025.",
    exception=True,
)
DEATHS = HeadlineItem("SHMI", "1.02", "2024/25", None, None, "", exception=True)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plain(server: SmtpTestServer, user: str | None = None, password: str | None = None) -> SmtpSettings:
    """Settings for the test server, no TLS (the `none` path, tested for real)."""
    return SmtpSettings(server.host, server.port, "none", "reports@trust.nhs.uk", user=user, password=password)


@pytest.fixture
def pack_files(tmp_path: Path) -> tuple[Path, Path]:
    deck, pdf = tmp_path / "weekly-executive_2025-W44.pptx", tmp_path / "weekly-executive_2025-W44.pdf"
    deck.write_bytes(bytes(range(256)) * 1200 + b"PK end")  # ~300 KB, every byte value
    pdf.write_bytes(b"%PDF-1.7\n" + "Ysbyty Gwynedd £ ŵ\n".encode() * 500 + b"%%EOF\n")
    return deck, pdf


def content(files: tuple[Path, ...] = (), icons: dict[str, Path] | None = None, **kw: object) -> EmailContent:
    base: dict[str, object] = {
        "subject": "Weekly executive pack: week of 27 October 2025",
        "title": "Weekly executive pack",
        "intro": "Two measures need attention this week.\n\nThe full pack is attached.",
        "items": (A_AND_E, CANCER, RTT, DEATHS),
        "attachments": files,
        "links": (
            ("Pack on the intranet", "https://intranet.trust.nhs.uk/packs/weekly/2025-W44"),
            ("Shared drive", r"\\fileserver\performance\packs\2025-W44"),
        ),
        "icon_images": icons or {},
        "footer": "OFFICIAL\nSource: snapshot 1a2b3c4d\nContains public sector information "
        "licensed under the Open Government Licence v3.0.",
    }
    base.update(kw)
    return EmailContent(**base)  # type: ignore[arg-type]


def parts(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


# ------------------------------------------------------------------------------------------ a real conversation


def test_message_is_received_with_both_parts_inline_icons_and_attachments(
    smtp_server: SmtpTestServer, pack_files: tuple[Path, Path], icon_images: dict[str, Path]
) -> None:
    send(plain(smtp_server), compose(content(pack_files, icon_images), SENDER, AMY))

    [got] = smtp_server.messages
    assert got.rcpt_tos == (AMY,) and got.mail_from == "reports@trust.nhs.uk"
    msg = got.message()
    assert msg["To"] == AMY and "reports@trust.nhs.uk" in msg["From"]
    assert msg["Subject"] == "Weekly executive pack: week of 27 October 2025"
    assert re.fullmatch(r"<[^<>@\s]+@trust\.nhs\.uk>", msg["Message-ID"])
    assert msg["Date"].datetime is not None
    assert msg.get_content_type() == "multipart/mixed"
    alternative = next(p for p in msg.iter_parts() if p.get_content_type() == "multipart/alternative")
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "multipart/related"]
    text, html = parts(msg)

    # inline icons: every cid the HTML uses exists, is the right PNG, and every <img> has alt text
    by_cid = {p["Content-ID"].strip(" <>"): p for p in msg.walk() if p["Content-ID"]}
    cids = re.findall(r'src="cid:([^"]+)"', html)
    assert cids and set(cids) <= set(by_cid)
    used = {"concern_low", "consistent_fail", "improvement_high", "common_cause", "inconsistent"}
    assert {sha(p.get_content()) for p in by_cid.values()} == {sha(icon_images[c].read_bytes()) for c in used}
    assert all(p.get_content_type() == "image/png" for p in by_cid.values())
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert len(imgs) == len(cids) == 5 and all(re.search(r'\balt="[^"]+"', i) for i in imgs)

    # never colour alone: each icon's letter and label are in both parts
    for letter, label in [
        ("L↓", "Special cause concern (low)"),
        ("F", "Target consistently missed"),
        ("H↑", "Special cause improvement (high)"),
        ("~", "Common cause variation"),
    ]:
        assert f"[{letter}] {label}" in text
        assert f"<strong>{letter}</strong> {label}" in html

    # exceptions first, then the rest in the order given; narratives present
    order = [html.index(t) for t in ("Cancer 62-day", "SHMI", "A&amp;E 4-hour performance", "RTT 18 weeks")]
    assert order == sorted(order)
    assert text.index("[EXCEPTION] Cancer 62-day") < text.index("[EXCEPTION] SHMI") < text.index("A&E 4-hour")
    assert "Needs attention (2)" in html and "NEEDS ATTENTION (2)" in text
    assert "Special cause improvement since May 2025." in html and "Special cause improvement since May 2025." in text

    # links always listed; a URL is a tap target, a path is shown as text
    assert 'href="https://intranet.trust.nhs.uk/packs/weekly/2025-W44"' in html
    assert r"\\fileserver\performance\packs\2025-W44" in html and r"\\fileserver" in text
    assert 'href="\\\\' not in html
    assert "OFFICIAL" in text and "Open Government Licence" in html

    # attachments byte-identical
    attached = {p.get_filename(): p for p in msg.iter_attachments()}
    assert set(attached) == {f.name for f in pack_files}
    for f in pack_files:
        assert sha(attached[f.name].get_content()) == sha(f.read_bytes())
    assert attached[pack_files[0].name].get_content_type() == (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    )
    assert "too large" not in text and "too large" not in html


def test_phone_layout_basics(icon_images: dict[str, Path]) -> None:
    _, html = parts(compose(content((), icon_images), SENDER, AMY))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "max-width:600px" in html and "-apple-system" in html
    assert re.search(r'<a href="https://[^"]+" style="display:block;padding:14px', html)  # big tap target
    assert 'lang="en-GB"' in html


def test_item_without_an_image_still_shows_letter_and_label() -> None:
    _, html = parts(compose(content((), None), SENDER, AMY))
    assert "<img" not in html
    assert "<strong>L↓</strong> Special cause concern (low)" in html


def test_attachments_over_the_limit_are_replaced_by_where_they_are(
    smtp_server: SmtpTestServer, pack_files: tuple[Path, Path]
) -> None:
    link = "https://intranet.trust.nhs.uk/packs/weekly/2025-W44/"
    send(plain(smtp_server), compose(content(pack_files), SENDER, AMY, attach_limit_bytes=100_000, published_link=link))
    msg = smtp_server.messages[0].message()
    assert list(msg.iter_attachments()) == []
    text, html = parts(msg)
    for body in (text, html):
        assert "too large to attach" in body and link in body
        assert all(f.name in body for f in pack_files)
    assert "ATTACHED" not in text


def test_over_the_limit_without_a_published_link_points_at_the_links_or_the_paths(
    pack_files: tuple[Path, Path],
) -> None:
    text, html = parts(compose(content(pack_files), SENDER, AMY, attach_limit_bytes=10))
    assert "Open them from the links below." in text and "Open them from the links below." in html
    text, html = parts(compose(content(pack_files, links=()), SENDER, AMY, attach_limit_bytes=10))
    assert str(pack_files[0].parent) not in text + html  # never a server path
    assert "Ask the sender where they are published." in text
    located = content(pack_files, links=(), published_as="weekly-executive/2025-08-25/RJ1/")
    text, html = parts(compose(located, SENDER, AMY, attach_limit_bytes=10))
    for body in (text, html):
        assert f"weekly-executive/2025-08-25/RJ1/{pack_files[0].name}" in body
        assert str(pack_files[0].parent) not in body


def test_awkward_text_is_escaped_in_html_and_intact_in_text(smtp_server: SmtpTestServer) -> None:
    welsh = "Ysbyty Gwynedd, Bwrdd Iechyd Prifysgol Betsi Cadwaladr: Llanfairpwllgwyngyll, Tŷ Ŵyn"
    item = HeadlineItem(
        "<script>alert('x')</script> & \"quotes\"",
        "£1,234 & <b>",
        welsh,
        "neutral_high",
        None,
        f"Cleifion yn {welsh} <img src=x onerror=alert(1)>",
        exception=True,
    )
    c = content(
        (),
        None,
        title="A&E <script>",
        subject="Pecyn wythnosol: Tŷ Ŵyn\nBcc: evil@example.com",
        intro="Bore da & <i>croeso</i>",
        items=(item,),
        links=(("<Evil>", "javascript:alert(1)"), ("Ŵyn & co", "https://example.nhs.uk/?a=1&b=<2>")),
        footer="OFFICIAL-SENSITIVE <marking>",
    )
    send(plain(smtp_server), compose(c, SENDER, AMY))
    msg = smtp_server.messages[0].message()
    assert msg["Subject"] == "Pecyn wythnosol: Tŷ Ŵyn Bcc: evil@example.com"  # one line, no header injection
    assert msg["Bcc"] is None and smtp_server.messages[0].rcpt_tos == (AMY,)
    text, html = parts(msg)

    for raw in ("<script>", "<img src=x", "<i>croeso</i>", "<b>", "<marking>", "<Evil>"):
        assert raw in text
        assert raw not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    assert "A&amp;E &lt;script&gt;" in html and "£1,234 &amp; &lt;b&gt;" in html
    assert welsh in text and welsh in html and "Tŷ Ŵyn" in msg["Subject"]
    assert 'href="javascript:' not in html and "javascript:alert(1)" in html  # shown, never a link
    assert 'href="https://example.nhs.uk/?a=1&amp;b=&lt;2&gt;"' in html
    assert "<img" not in html  # the only image markup was in the data


# ----------------------------------------------------------------------------------------- failures, classified


def test_5xx_for_one_recipient_is_permanent_and_the_others_still_get_theirs(smtp_server: SmtpTestServer) -> None:
    smtp_server.reject(BOB, 550, "5.1.1 No such mailbox")
    send(plain(smtp_server), compose(content(), SENDER, AMY))
    with pytest.raises(PermanentDeliveryError) as caught:
        send(plain(smtp_server), compose(content(), SENDER, BOB))
    err = caught.value
    assert err.code == 550 and err.recipient == BOB and isinstance(err, DeliveryError)
    assert isinstance(err.__cause__, smtplib.SMTPRecipientsRefused)
    assert BOB in str(err) and "550" in str(err) and "No such mailbox" in str(err)
    assert [m.rcpt_tos for m in smtp_server.messages] == [(AMY,)]


def test_4xx_is_temporary_and_a_retry_delivers_once(smtp_server: SmtpTestServer) -> None:
    smtp_server.reject(AMY, 451, times=1)
    message = compose(content(), SENDER, AMY)
    with pytest.raises(TemporaryDeliveryError) as caught:
        send(plain(smtp_server), message)
    assert caught.value.code == 451 and caught.value.recipient == AMY
    send(plain(smtp_server), message)
    assert len(smtp_server.for_recipient(AMY)) == 1


def test_server_down_is_temporary_then_up_delivers(smtp_server: SmtpTestServer) -> None:
    message = compose(content(), SENDER, AMY)
    smtp_server.down()
    with pytest.raises(TemporaryDeliveryError) as caught:
        send(plain(smtp_server), message)
    assert caught.value.code is None and caught.value.recipient == AMY
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    assert "connection refused" in str(caught.value)
    smtp_server.up()
    send(plain(smtp_server), message)
    assert len(smtp_server.messages) == 1


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections and never says a word (a hung relay)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join()
    for s in held:
        s.close()
    sock.close()


def test_a_server_that_never_answers_times_out_as_temporary(silent_server: int) -> None:
    settings = SmtpSettings("127.0.0.1", silent_server, "none", "reports@trust.nhs.uk", timeout=0.5)
    with pytest.raises(TemporaryDeliveryError, match="timed out") as caught:
        send(settings, compose(content(), SENDER, AMY))
    assert caught.value.code is None


def test_server_hanging_up_is_temporary(smtp_server: SmtpTestServer) -> None:
    class HangUp:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "421 4.3.2 Service shutting down"

    smtp_server.handler.handle_DATA = HangUp().handle_DATA  # type: ignore[method-assign]
    with pytest.raises(TemporaryDeliveryError) as caught:
        send(plain(smtp_server), compose(content(), SENDER, AMY))
    assert caught.value.code == 421


def test_bad_recipient_addresses_are_permanent_before_any_connection() -> None:
    for bad in ("not-an-address", f"{AMY}, {BOB}", ""):
        with pytest.raises(PermanentDeliveryError) as caught:
            compose(content(), SENDER, bad)
        assert caught.value.code is None


def test_unknown_icon_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown variation icon 'concern_sideways'"):
        HeadlineItem("x", "1", "p", "concern_sideways", None, "", False)
    with pytest.raises(ValueError, match="unknown assurance 'maybe'"):
        HeadlineItem("x", "1", "p", None, "maybe", "", False)


def test_missing_attachment_file_is_a_delivery_error(tmp_path: Path) -> None:
    with pytest.raises(DeliveryError, match="gone.pptx"):
        compose(content((tmp_path / "gone.pptx",)), SENDER, AMY)


# --------------------------------------------------------------------------------------------- settings and AUTH


def test_settings_from_config_with_environment_overrides() -> None:
    plain_settings = SmtpSettings.from_config("smtp.trust.nhs.uk", 587, "starttls", "reports@trust.nhs.uk", environ={})
    assert (plain_settings.host, plain_settings.port, plain_settings.user, plain_settings.password) == (
        "smtp.trust.nhs.uk",
        587,
        None,
        None,
    )
    env = {
        "REPORTING_SMTP_HOST": "relay.nhs.net",
        "REPORTING_SMTP_PORT": "2525",
        "REPORTING_SMTP_USER": "svc-reports",
        "REPORTING_SMTP_PASSWORD": "pa55-w0rd!",
    }
    s = SmtpSettings.from_config("smtp.trust.nhs.uk", 587, "ssl", "reports@trust.nhs.uk", user="someone", environ=env)
    assert (s.host, s.port, s.security, s.user, s.password) == (
        "relay.nhs.net",
        2525,
        "ssl",
        "svc-reports",
        "pa55-w0rd!",
    )
    assert "pa55-w0rd!" not in repr(s)
    # the password is only read from the environment: a config user alone is an error naming the variable
    with pytest.raises(ConfigError, match="REPORTING_SMTP_PASSWORD") as caught:
        SmtpSettings.from_config(
            "h", 25, "none", "reports@trust.nhs.uk", user="svc", environ={}, file="schedules.yaml", line=3
        )
    assert str(caught.value).startswith("schedules.yaml:3")
    with pytest.raises(ConfigError, match="REPORTING_SMTP_PASSWORD"):
        SmtpSettings.from_config("h", 25, "none", "reports@trust.nhs.uk", environ={"REPORTING_SMTP_USER": "svc"})
    with pytest.raises(ConfigError, match="REPORTING_SMTP_PORT"):
        SmtpSettings.from_config("h", 25, "none", "reports@trust.nhs.uk", environ={"REPORTING_SMTP_PORT": "smtp"})
    with pytest.raises(ConfigError, match="security 'tls'"):
        SmtpSettings.from_config("h", 25, "tls", "reports@trust.nhs.uk", environ={})
    with pytest.raises(ConfigError, match="not an email address"):
        SmtpSettings.from_config("h", 25, "none", "reports", environ={})


@pytest.fixture
def auth_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer(users={"svc-reports": "pa55-w0rd!"}, auth_required=True) as server:
        yield server


def test_login_with_user_and_password(auth_server: SmtpTestServer) -> None:
    send(plain(auth_server, user="svc-reports", password="pa55-w0rd!"), compose(content(), SENDER, AMY))
    [got] = auth_server.messages
    assert got.login == "svc-reports"


def test_wrong_password_is_permanent_535_and_the_password_is_never_shown(auth_server: SmtpTestServer) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        send(plain(auth_server, user="svc-reports", password="wr0ng-s3cret"), compose(content(), SENDER, AMY))
    err = caught.value
    assert err.code == 535 and err.recipient == AMY
    assert isinstance(err.__cause__, smtplib.SMTPAuthenticationError)
    assert "wr0ng-s3cret" not in str(err) and "wr0ng-s3cret" not in repr(err)
    assert auth_server.messages == []


def test_no_login_when_the_server_requires_it_is_permanent(auth_server: SmtpTestServer) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        send(plain(auth_server), compose(content(), SENDER, AMY))
    assert caught.value.code == 530


# --------------------------------------------------------------------------------------------------------- TLS


def test_starttls_with_a_verified_certificate(
    server_tls_context: ssl.SSLContext, client_tls_context: ssl.SSLContext
) -> None:
    with SmtpTestServer(tls_context=server_tls_context, users={"svc": "pw"}) as server:
        settings = SmtpSettings(server.host, server.port, "starttls", "reports@trust.nhs.uk", "svc", "pw")
        send(settings, compose(content(), SENDER, AMY), ssl_context=client_tls_context)
        [got] = server.messages
        assert got.tls and got.login == "svc"
        # the default context does not trust a self-signed certificate: permanent, not retried for ever
        with pytest.raises(PermanentDeliveryError, match="certificate"):
            send(settings, compose(content(), SENDER, AMY))
        assert len(server.messages) == 1


def test_starttls_required_but_not_offered_is_permanent(smtp_server: SmtpTestServer) -> None:
    settings = SmtpSettings(smtp_server.host, smtp_server.port, "starttls", "reports@trust.nhs.uk")
    with pytest.raises(PermanentDeliveryError, match="STARTTLS|starttls"):
        send(settings, compose(content(), SENDER, AMY))
    assert smtp_server.messages == []


def test_smtps(server_tls_context: ssl.SSLContext, client_tls_context: ssl.SSLContext) -> None:
    with SmtpTestServer(smtps_context=server_tls_context) as server:
        settings = SmtpSettings(server.host, server.port, "ssl", "reports@trust.nhs.uk")
        send(settings, compose(content(), SENDER, AMY), ssl_context=client_tls_context)
        [got] = server.messages
        assert got.tls and got.rcpt_tos == (AMY,)
