"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, a free port, messages kept in memory.

Self-contained (no pytest, nothing from `reporting`), so any test folder can use it:

    with SmtpTestServer() as server:                      # or .start() / .stop()
        server.reject("bob@example.nhs.uk", 550)          # 5xx for one recipient, every time
        server.reject("amy@example.nhs.uk", 451, times=2) # 4xx twice, then accepted
        server.down()                                     # connection refused from now on (same port)
        server.up()                                       # listening again on the same port
        server.slow(3.0)                                  # store each message, then wait 3 s before "250"
        server.crash_after_accept(times=1)                # store the message, then drop the connection unanswered
        server.messages                                   # list[Received], in arrival order
        server.messages[0].message()                      # email.message.EmailMessage (policy=default)
        server.for_recipient("amy@example.nhs.uk")        # the messages delivered to one address

Options: users={"name": "password"} turns on AUTH (PLAIN/LOGIN) with auth_require_tls=False, and with
auth_required=True an unauthenticated MAIL FROM gets 530; tls_context=... offers STARTTLS;
smtps_context=... speaks TLS from the first byte (SMTPS). `host`, `port` tell clients where to go.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
import warnings
from dataclasses import dataclass, field
from email.message import EmailMessage
from ssl import SSLContext
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["Received", "RecordingHandler", "SmtpTestServer", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One message as the server got it: the envelope and the exact bytes of DATA."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None = None  # the authenticated user, if any
    tls: bool = False  # whether the session was encrypted

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Rule:
    code: int
    text: str
    times: int | None  # None: forever


@dataclass
class RecordingHandler:
    """aiosmtpd handler: stores what arrives; answers a chosen reply for chosen recipients."""

    messages: list[Received] = field(default_factory=list)
    rules: dict[str, _Rule] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reply_delay: float = 0.0  # seconds between storing a message and answering 250 (a slow server)
    crashes: int = 0  # messages still to be stored and then answered by a dropped connection

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        with self.lock:
            rule = self.rules.get(address.lower())
            if rule is not None:
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        del self.rules[address.lower()]
                return f"{rule.code} {rule.text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        login = session.auth_data if session.authenticated else None
        login = login.decode() if isinstance(login, bytes) else login
        transport = getattr(server, "transport", None)
        tls = session.ssl is not None or (transport is not None and transport.get_extra_info("ssl_object") is not None)
        with self.lock:
            self.messages.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(data), login=login, tls=tls)
            )
            crash = self.crashes > 0
            if crash:
                self.crashes -= 1
        if crash and transport is not None:  # accepted (stored), but the client never hears so
            transport.abort()
            return "421 connection lost"
        if self.reply_delay:
            import asyncio

            await asyncio.sleep(self.reply_delay)
        return "250 Message accepted for delivery"


class _Authenticator:
    def __init__(self, users: dict[str, str]) -> None:
        self.users = users

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        if self.users.get(user) == password:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)


class _QuietController(Controller):
    def factory(self) -> Any:
        with warnings.catch_warnings():  # "AUTH without requiring TLS" is exactly what a test server wants
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return super().factory()


class SmtpTestServer:
    """A real SMTP server in a background thread (see the module docstring)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        users: dict[str, str] | None = None,
        auth_required: bool = False,
        tls_context: SSLContext | None = None,
        smtps_context: SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.handler = RecordingHandler()
        self._users = users
        self._auth_required = auth_required
        self._tls_context = tls_context
        self._smtps_context = smtps_context
        self._controller: Controller | None = None

    # -- life cycle
    def _make_controller(self) -> Controller:
        kwargs: dict[str, Any] = {"hostname": self.host, "port": self.port, "ready_timeout": 5.0}
        if self._smtps_context is not None:
            kwargs["ssl_context"] = self._smtps_context
            kwargs["server_hostname"] = self.host
        if self._tls_context is not None:
            kwargs["tls_context"] = self._tls_context
            kwargs["require_starttls"] = False
        if self._users is not None:
            kwargs["authenticator"] = _Authenticator(self._users)
            kwargs["auth_require_tls"] = False
            kwargs["auth_required"] = self._auth_required
        return _QuietController(self.handler, **kwargs)

    def start(self) -> SmtpTestServer:
        if self._controller is None:
            controller = self._make_controller()
            controller.start()  # asyncio binds with SO_REUSEADDR, so up() after down() gets the same port back
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            controller, self._controller = self._controller, None
            controller.stop()

    def down(self) -> None:
        """Stop listening: clients now get 'connection refused' on the same port."""
        self.stop()

    def up(self) -> None:
        """Listen again on the same port, keeping the messages and rules."""
        self.start()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour
    def reject(self, recipient: str, code: int = 550, text: str | None = None, *, times: int | None = None) -> None:
        """Answer RCPT TO:<recipient> with `code` (4xx or 5xx); `times` replies, or for ever when None."""
        default = "5.1.1 Mailbox unavailable" if code >= 500 else "4.3.0 Try again later"
        with self.handler.lock:
            self.handler.rules[recipient.lower()] = _Rule(code, text or default, times)

    def slow(self, seconds: float) -> None:
        """Store every message at once but answer DATA only `seconds` later (0 = normal again)."""
        self.handler.reply_delay = seconds

    def crash_after_accept(self, times: int = 1) -> None:
        """For the next `times` messages: store it, then drop the connection without answering DATA."""
        with self.handler.lock:
            self.handler.crashes = times

    def accept(self, recipient: str) -> None:
        """Forget any rule for `recipient`."""
        with self.handler.lock:
            self.handler.rules.pop(recipient.lower(), None)

    # -- what arrived
    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def for_recipient(self, address: str) -> list[Received]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.messages.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until at least `count` messages have arrived (for senders in other threads/processes)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} message(s), got {len(self.messages)} within {timeout} s")
            time.sleep(0.02)
        return self.messages
