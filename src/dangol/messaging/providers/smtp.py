"""E-mail over SMTP (any relay or mail service that speaks SMTP).

Outcomes:

- the server answers 2xx to the end of DATA → DELIVERED (the relay has taken responsibility;
  SMTP has nothing more to report, so this is final);
- a 4xx reply at any step → FAILED, retryable; a 5xx reply → FAILED, not retryable;
- no connection, or the connection lost before the message text was sent → FAILED, retryable
  (the server cannot have queued anything);
- the connection lost or timed out after the message text was sent, before the reply → UNKNOWN.

SMTP has no status API. With a ``journal`` (``smtp_journal``) the provider remembers each
message's decisive steps, so a dispatcher killed mid-wave is settled by the next one: what had
its 250 is delivered, what never left is sent, and only a message whose text had gone without
an answer stays unknown.

Headers (compliance-kr §4): ``Message-ID`` derived from the idempotency key (so a resend is
recognisable as the same message by the receiving side), ``X-Dangol-Idempotency-Key``, and
for messages with unsubscribe links ``List-Unsubscribe: <https://…>, <mailto:…>`` on one line
plus ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058, only with an https URL).
An ad without ``(광고)`` at the start of the subject or without an https unsubscribe link is
refused here, before any connection. The message text is written by ``smtp_mime``.

Speed: connections stay open across messages, up to ``connections`` of them used at once by
the dispatcher's threads, and where the server offers PIPELINING (RFC 2920) MAIL, RCPT and
DATA go in one write, so a message costs two round trips instead of four.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl as ssl_module
import threading

from ._common import refused
from .base import Channel, Outcome, OutgoingMessage, SendResult
from .smtp_journal import BEGUN, DELIVERED, PERMANENT, TEMPORARY, SmtpJournal
from .smtp_mime import Mail, dot_stuffed, message_id_for, render

__all__ = ["SmtpProvider", "message_id_for"]


class _Progress:
    """How far one attempt got: after the message text is on the wire, a lost connection
    means the server may have queued it."""

    data_sent = False


class SmtpProvider:
    name = "smtp"
    channels = frozenset({Channel.EMAIL.value})

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        ssl: bool = False,
        timeout: float = 30.0,
        local_hostname: str | None = None,
        connections: int = 4,
        journal: SmtpJournal | None = None,
    ) -> None:
        if starttls and ssl:
            raise ValueError("choose starttls or ssl, not both")
        if connections < 1:
            raise ValueError("connections must be at least 1")
        self.host = host
        self.port = port
        self.from_address = from_address
        self.username = username
        self.password = password
        self.starttls = starttls
        self.ssl = ssl
        self.timeout = timeout
        self.local_hostname = local_hostname
        # The dispatcher sends on this many threads at once, each on a connection of its own:
        # most of a message's time is waiting for the server's replies.
        self.parallel = connections
        self._idle: list[smtplib.SMTP] = []
        self._lock = threading.Lock()
        self._context: ssl_module.SSLContext | None = None
        self.journal = journal

    def _problem(self, message: OutgoingMessage) -> str:
        if "@" not in message.to:
            return "the recipient is not an e-mail address"
        if not message.subject.strip():
            return "an e-mail needs a subject"
        if message.kind == "ad":
            if not message.subject.startswith("(광고)"):
                return "an ad e-mail's subject must start with '(광고)'"
            if not message.unsubscribe_url.startswith("https://"):
                return "an ad e-mail needs an https one-click unsubscribe link"
        return ""

    # --- sending ---------------------------------------------------------------------------

    def send(self, message: OutgoingMessage) -> SendResult:
        """Thread-safe: each call holds a connection of its own while it sends."""
        problem = self._problem(message)
        if problem:
            return refused("local_check", problem)
        try:
            mail = render(message, self.from_address)
        except (ValueError, TypeError, UnicodeError) as exc:
            return refused("build_error", f"could not build the message: {exc}")
        for attempt in (1, 2):
            client: smtplib.SMTP | None = None
            reused = False
            progress = _Progress()
            try:
                client, reused = self._take(fresh=attempt == 2)
                return self._transaction(client, mail, progress)
            except smtplib.SMTPResponseException as exc:
                self._discard(client)
                step = "end of DATA" if progress.data_sent else "session"
                return _reply_result(exc.smtp_code, exc.smtp_error, step)
            except (smtplib.SMTPException, OSError) as exc:
                self._discard(client)
                if progress.data_sent:
                    return SendResult(
                        Outcome.UNKNOWN,
                        provider_message_id=mail.message_id,
                        code="no_answer",
                        detail=f"connection lost after the message was sent: {exc}",
                    )
                if reused and attempt == 1:
                    continue  # the server closed an idle connection; nothing was sent
                return SendResult(
                    Outcome.FAILED,
                    code="connect_error",
                    detail=f"nothing was sent: {exc}",
                    retryable=True,
                )
        raise AssertionError("unreachable: the second attempt always returns")

    def _transaction(self, client: smtplib.SMTP, mail: Mail, progress: _Progress) -> SendResult:
        """MAIL, RCPT, DATA and the text on an open session; the session goes back to the pool
        when it is left in a known state."""
        if client.has_extn("pipelining"):
            failure = self._envelope_pipelined(client, mail)
        else:
            failure = self._envelope(client, mail)
        if failure is not None:
            self._reset(client)
            return failure
        key = mail.idempotency_key
        if self.journal is not None:
            self.journal.note(key, BEGUN)
        client.send(dot_stuffed(mail.raw))
        progress.data_sent = True
        code, reply = client.getreply()
        if self.journal is not None and code >= 200:
            step = DELIVERED if code < 300 else TEMPORARY if code < 500 else PERMANENT
            self.journal.note(key, step)
        if code < 0:  # smtplib reports a dropped connection on getreply as -1 in some paths
            self._discard(client)
            return SendResult(
                Outcome.UNKNOWN,
                provider_message_id=mail.message_id,
                code="no_answer",
                detail="no reply to the end of DATA",
            )
        self._give(client)
        if 200 <= code < 300:
            return SendResult(
                Outcome.DELIVERED,
                provider_message_id=mail.message_id,
                code=str(code),
                detail=_text(reply),
            )
        return _reply_result(code, reply, "end of DATA")

    @staticmethod
    def _envelope(client: smtplib.SMTP, mail: Mail) -> SendResult | None:
        code, reply = client.mail(mail.envelope_from)
        if code >= 400:
            return _reply_result(code, reply, "MAIL FROM")
        code, reply = client.rcpt(mail.envelope_to)
        if code >= 400:
            return _reply_result(code, reply, "RCPT TO")
        code, reply = client.docmd("DATA")
        if code != 354:
            return _reply_result(code, reply, "DATA")
        return None

    @staticmethod
    def _envelope_pipelined(client: smtplib.SMTP, mail: Mail) -> SendResult | None:
        """RFC 2920: MAIL, RCPT and DATA in one write (DATA last in the group), then every
        reply read and checked in order."""
        commands = (
            f"MAIL FROM:{smtplib.quoteaddr(mail.envelope_from)}\r\n"
            f"RCPT TO:{smtplib.quoteaddr(mail.envelope_to)}\r\n"
            "DATA\r\n"
        )
        client.send(commands.encode("ascii"))
        replies = [client.getreply() for _ in range(3)]
        (mail_code, _), (rcpt_code, _), (data_code, _) = replies
        if mail_code < 400 and rcpt_code < 400 and data_code == 354:
            return None
        if data_code == 354:
            # RFC 2920 §3.1: DATA was accepted although MAIL or RCPT failed; end the empty
            # message with a single dot (it has no recipient, so nothing is delivered).
            client.send(b".\r\n")
            client.getreply()
        for (code, reply), step in zip(replies, ("MAIL FROM", "RCPT TO", "DATA"), strict=True):
            if code >= 400 or (step == "DATA" and code != 354):
                return _reply_result(code, reply, step)
        raise AssertionError("unreachable: one of the replies failed")

    # --- connections -----------------------------------------------------------------------
    # Connections are kept across messages (connecting and greeting cost more than sending a
    # small message), at most ``parallel`` of them idle. A connection that fails is dropped
    # and never reused.

    def _take(self, *, fresh: bool = False) -> tuple[smtplib.SMTP, bool]:
        if not fresh:
            with self._lock:
                if self._idle:
                    return self._idle.pop(), True
        client = self._connect()
        try:
            if self.username:
                client.login(self.username, self.password or "")
        except BaseException:
            _close_quietly(client)
            raise
        return client, False

    def _give(self, client: smtplib.SMTP) -> None:
        with self._lock:
            if len(self._idle) < self.parallel:
                self._idle.append(client)
                return
        _close_quietly(client)

    def _reset(self, client: smtplib.SMTP) -> None:
        try:
            client.rset()
        except (smtplib.SMTPException, OSError):
            self._discard(client)
        else:
            self._give(client)

    @staticmethod
    def _discard(client: smtplib.SMTP | None) -> None:
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    def close(self) -> None:
        """Say goodbye to the server (QUIT) on every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, []
        for client in idle:
            _close_quietly(client)

    def _tls_context(self) -> ssl_module.SSLContext:
        # Reading the CA store costs ~60 ms: once per provider, and only if TLS is used.
        if self._context is None:
            self._context = ssl_module.create_default_context()
        return self._context

    def _connect(self) -> smtplib.SMTP:
        context = self._tls_context() if (self.ssl or self.starttls) else None
        if self.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=context,
            )
        else:
            client = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        try:
            client.ehlo_or_helo_if_needed()
            if self.starttls:
                client.starttls(context=context)
                client.ehlo()
        except BaseException:
            self._discard(client)
            raise
        return client

    def status(self, message: OutgoingMessage, provider_message_id: str = "") -> SendResult:
        if self.journal is not None:
            return self.journal.outcome(message.idempotency_key, provider_message_id)
        return SendResult(
            Outcome.UNKNOWN,
            provider_message_id=provider_message_id,
            code="no_status_api",
            detail=(
                "SMTP has no status API: an e-mail's outcome is final at the server's 250 reply "
                "to the end of DATA. An UNKNOWN e-mail can only be settled by a person (or by "
                "the receiving side's bounce), never by asking the server again."
            ),
        )


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _reply_result(code: int, reply: bytes | str, step: str) -> SendResult:
    detail = f"{step}: {code} {_text(reply)}".strip()
    if 400 <= code < 500:
        return SendResult(Outcome.FAILED, code=str(code), detail=detail, retryable=True)
    if code >= 500:
        return SendResult(Outcome.FAILED, code=str(code), detail=detail, retryable=False)
    return SendResult(Outcome.FAILED, code=str(code), detail=f"unexpected reply: {detail}")


def _close_quietly(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        with contextlib.suppress(OSError):
            client.close()
