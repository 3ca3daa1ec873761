"""Send one composed message over SMTP (STARTTLS, SMTPS or plain), login when a user is set.

    send(settings, message) -> None
        every failure leaves through ONE boundary as TemporaryDeliveryError (retry later),
        PermanentDeliveryError (do not retry) or AmbiguousDeliveryError (the server may have it: never resent
        automatically), each carrying .recipient and .code, the original exception chained.

The settings come from schedules.yaml and the environment (the password only from the environment); the
password never appears in a message, a repr or a log line. Composing the message is delivery.compose's job.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from typing import TYPE_CHECKING, Literal, cast

from reporting.delivery.compose import (
    AmbiguousDeliveryError,
    EmailDeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    _is_address,
)
from reporting.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = ["SmtpSettings", "send"]

Security = Literal["starttls", "ssl", "none"]
SECURITY_MODES: tuple[str, ...] = ("starttls", "ssl", "none")
ENV_HOST, ENV_PORT, ENV_USER, ENV_PASSWORD = (
    "REPORTING_SMTP_HOST",
    "REPORTING_SMTP_PORT",
    "REPORTING_SMTP_USER",
    "REPORTING_SMTP_PASSWORD",
)


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
    def from_config(
        cls,
        host: str,
        port: int | str,
        security: str,
        sender: str,
        user: str | None = None,
        *,
        environ: Mapping[str, str] = os.environ,
        file: object | None = None,
        line: int | None = None,
        timeout: float = 30,
    ) -> SmtpSettings:
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
            raise fail(
                f"SMTP user {user!r} is set but the environment variable {ENV_PASSWORD} is not; "
                f"the password is only ever read from {ENV_PASSWORD}",
                ENV_PASSWORD,
            )
        return cls(
            host=str(host).strip(),
            port=port_number,
            security=cast(Security, security),  # one of SECURITY_MODES, checked above
            sender=sender,
            user=user or None,
            password=password if user else None,
            timeout=timeout,
        )


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
        return _classified(
            exc.smtp_code,
            say(f"login as {settings.user!r} failed: {exc.smtp_code} {_reply_text(exc.smtp_error)}"),
            recipient,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code if isinstance(exc.smtp_code, int) and exc.smtp_code > 0 else None
        what = {
            smtplib.SMTPSenderRefused: "sender refused",
            smtplib.SMTPDataError: "message refused",
            smtplib.SMTPConnectError: "server refused the connection",
            smtplib.SMTPHeloError: "server refused the greeting",
        }.get(type(exc), "server said")
        return _classified(code, say(f"{what}: {exc.smtp_code} {_reply_text(exc.smtp_error)}"), recipient)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TemporaryDeliveryError(say(f"server disconnected: {exc}"), recipient=recipient, code=None)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentDeliveryError(
            say(f"server does not support what the settings need (security={settings.security}): {exc}"),
            recipient=recipient,
            code=None,
        )
    if isinstance(exc, smtplib.SMTPException):
        return PermanentDeliveryError(say(str(exc)), recipient=recipient, code=None)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentDeliveryError(
            say(f"TLS certificate not trusted: {exc.verify_message or exc}"), recipient=recipient, code=None
        )
    if isinstance(exc, ssl.SSLError):
        return TemporaryDeliveryError(say(f"TLS failed: {exc}"), recipient=recipient, code=None)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return TemporaryDeliveryError(say(f"timed out after {settings.timeout:g} s"), recipient=recipient, code=None)
    if isinstance(exc, ConnectionRefusedError):
        return TemporaryDeliveryError(
            say("connection refused (is the SMTP server running?)"), recipient=recipient, code=None
        )
    return TemporaryDeliveryError(say(f"could not reach the server: {exc}"), recipient=recipient, code=None)


class _SMTP(smtplib.SMTP):
    """smtplib client that knows when the message is committed: the server accepts a message only on the
    final CRLF.CRLF of DATA, so a failure before it is a clean failure (the server discards the message) and
    a failure after it, without a reply, is ambiguous. `on_commit` runs just before that last write, so a
    caller can durably record "committed" first."""

    on_commit: Callable[[], None] | None = None
    committed = False
    _in_data = False

    def send(self, s: ReadableBuffer | str) -> None:  # smtplib's own socket write, used for every command and DATA
        final = isinstance(s, bytes) and s.endswith(b"\r\n.\r\n") and self._in_data
        if final and self.on_commit is not None:
            try:
                self.on_commit()
            except BaseException:
                self.close()  # mid-DATA without the final ".": the server discards the message
                raise
        super().send(s)
        if final:
            self.committed = True

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self._in_data = True
        try:
            return super().data(msg)
        finally:
            self._in_data = False


class _SMTP_SSL(_SMTP, smtplib.SMTP_SSL):  # noqa: N801 - smtplib's name
    """The same over TLS from the first byte (SMTPS)."""


def send(
    settings: SmtpSettings,
    message: EmailMessage,
    *,
    ssl_context: ssl.SSLContext | None = None,
    on_commit: Callable[[], None] | None = None,
) -> None:
    """Deliver `message` (one recipient, its To header) in one SMTP conversation.

    security: "starttls" (plain connect, then STARTTLS, required), "ssl" (SMTPS from the first byte), "none".
    `ssl_context` defaults to ssl.create_default_context() (verifies the certificate and host name); tests pass
    one that trusts their self-signed certificate. `on_commit` is called just before the final "." of DATA.
    Raises TemporaryDeliveryError or PermanentDeliveryError (the server did not take the message), or
    AmbiguousDeliveryError (it was sent whole but no reply came: it may have been accepted)."""
    recipients = [addr for _, addr in getaddresses(message.get_all("To", []))]
    if len(recipients) != 1 or not _is_address(recipients[0]):
        raise PermanentDeliveryError(
            f"a message must have exactly one recipient in To:, got {message['To']!r}",
            recipient=str(message["To"]),
            code=None,
        )
    recipient = recipients[0]
    context = ssl_context
    if context is None and settings.security != "none":
        context = ssl.create_default_context()
    client: _SMTP | None = None
    try:
        if settings.security == "ssl":
            client = _SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            client = _SMTP(settings.host, settings.port, timeout=settings.timeout)
        client.on_commit = on_commit
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
        replied = (
            isinstance(exc, smtplib.SMTPResponseException) and isinstance(exc.smtp_code, int) and exc.smtp_code > 0
        )
        if client is not None and getattr(client, "committed", False) and not replied:
            raise AmbiguousDeliveryError(
                _scrub(
                    f"email to {recipient} via {settings.host}:{settings.port}: the whole message was sent but "
                    f"the server did not confirm it ({type(exc).__name__}: {exc or 'no reply'}); it may have "
                    f"been delivered, so it is not resent automatically",
                    settings.password,
                ),
                recipient=recipient,
                code=None,
            ) from exc
        raise _translate(exc, settings, recipient) from exc
    finally:
        if client is not None:
            try:
                client.quit()
            except Exception:  # noqa: BLE001 - the conversation is over either way
                client.close()
