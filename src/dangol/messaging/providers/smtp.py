"""E-mail over SMTP (any relay or mail service that speaks SMTP).

Outcomes:

- the server answers 2xx to the end of DATA → DELIVERED (the relay has taken responsibility;
  SMTP has nothing more to report, so this is final);
- a 4xx reply at any step → FAILED, retryable; a 5xx reply → FAILED, not retryable;
- no connection, or the connection lost before the message text was sent → FAILED, retryable
  (the server cannot have queued anything);
- the connection lost or timed out after the message text was sent, before the reply → UNKNOWN.

Headers (compliance-kr §4): ``Message-ID`` derived from the idempotency key (so a resend is
recognisable as the same message by the receiving side), ``X-Dangol-Idempotency-Key``, and
for messages with unsubscribe links ``List-Unsubscribe: <https://…>, <mailto:…>`` on one line
plus ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058, only with an https URL).
An ad without ``(광고)`` at the start of the subject or without an https unsubscribe link is
refused here, before any connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
import ssl as ssl_module
import threading
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate

from ._common import refused
from .base import Channel, Outcome, OutgoingMessage, SendResult

_POLICY = SMTP_POLICY.clone(cte_type="7bit")  # base64/QP bodies: no 8BITMIME needed


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The Message-ID a given idempotency key always gets."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<dangol.{digest}@{domain}>"


def _domain_of(address: str) -> str:
    match = re.search(r"@([A-Za-z0-9.-]+)>?\s*$", address)
    return match.group(1).lower() if match else "localhost"


def _one_line_header(raw: bytes, name: bytes) -> bytes:
    """Unfold one header in a serialised message (long List-Unsubscribe headers folded onto
    two lines have broken DKIM in some stacks; compliance-kr §4)."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    out: list[bytes] = []
    inside = False
    for line in lines:
        if line[:1] in (b" ", b"\t") and inside:
            out[-1] = out[-1] + b" " + line.strip()
            continue
        inside = line.lower().startswith(name.lower() + b":")
        out.append(line)
    return b"\r\n".join(out) + separator + body


def _dot_stuffed(raw: bytes) -> bytes:
    lines = raw.split(b"\r\n")
    stuffed = [b"." + line if line.startswith(b".") else line for line in lines]
    text = b"\r\n".join(stuffed)
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    return text + b".\r\n"


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
    ) -> None:
        if starttls and ssl:
            raise ValueError("choose starttls or ssl, not both")
        self.host = host
        self.port = port
        self.from_address = from_address
        self.username = username
        self.password = password
        self.starttls = starttls
        self.ssl = ssl
        self.timeout = timeout
        self.local_hostname = local_hostname

    # --- building --------------------------------------------------------------------------

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """The MIME message exactly as it will be sent (without the one-line header fix)."""
        sender = message.sender if "@" in message.sender else self.from_address
        email = EmailMessage(policy=_POLICY)
        email["From"] = sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = message_id_for(message.idempotency_key, _domain_of(sender))
        email["X-Dangol-Idempotency-Key"] = message.idempotency_key
        links = []
        if message.unsubscribe_url:
            links.append(f"<{message.unsubscribe_url}>")
        if message.unsubscribe_mailto:
            mailto = message.unsubscribe_mailto
            links.append(f"<{mailto if mailto.startswith('mailto:') else 'mailto:' + mailto}>")
        if links:
            email["List-Unsubscribe"] = ", ".join(links)
        if message.unsubscribe_url.startswith("https://"):
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email.set_content(message.body, charset="utf-8")
        return email

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
        problem = self._problem(message)
        if problem:
            return refused("local_check", problem)
        try:
            email = self.build(message)
            raw = _one_line_header(email.as_bytes(policy=_POLICY), b"List-Unsubscribe")
        except (ValueError, TypeError, UnicodeError) as exc:
            return refused("build_error", f"could not build the message: {exc}")
        message_id = str(email["Message-ID"])
        envelope_from = _bare_address(str(email["From"]))
        data_sent = False
        for attempt in (1, 2):
            reused = self._open() is not None
            try:
                client = self._session()
                code, reply = client.mail(envelope_from)
                if code >= 400:
                    self._reset(client)
                    return _reply_result(code, reply, "MAIL FROM")
                code, reply = client.rcpt(message.to)
                if code >= 400:
                    self._reset(client)
                    return _reply_result(code, reply, "RCPT TO")
                code, reply = client.docmd("DATA")
                if code != 354:
                    self._reset(client)
                    return _reply_result(code, reply, "DATA")
                client.send(_dot_stuffed(raw))
                data_sent = True
                code, reply = client.getreply()
                break
            except smtplib.SMTPResponseException as exc:
                self._drop()
                if data_sent:
                    return _reply_result(exc.smtp_code, exc.smtp_error, "end of DATA")
                return _reply_result(exc.smtp_code, exc.smtp_error, "session")
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                if data_sent:
                    return SendResult(
                        Outcome.UNKNOWN,
                        provider_message_id=message_id,
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
        if 200 <= code < 300:
            return SendResult(
                Outcome.DELIVERED,
                provider_message_id=message_id,
                code=str(code),
                detail=_text(reply),
            )
        if code < 0:  # smtplib reports a dropped connection on getreply as -1 in some paths
            self._drop()
            return SendResult(
                Outcome.UNKNOWN,
                provider_message_id=message_id,
                code="no_answer",
                detail="no reply to the end of DATA",
            )
        return _reply_result(code, reply, "end of DATA")

    # One connection per thread, kept across messages: connecting and greeting cost more than
    # sending a small message. A connection that fails is dropped and never reused.
    def _open(self) -> smtplib.SMTP | None:
        return getattr(self._local(), "client", None)

    def _local(self) -> threading.local:
        if getattr(self, "_thread_state", None) is None:
            self._thread_state = threading.local()
        return self._thread_state

    def _session(self) -> smtplib.SMTP:
        client = self._open()
        if client is None:
            client = self._connect()
            if self.username:
                client.login(self.username, self.password or "")
            self._local().client = client
        return client

    def _reset(self, client: smtplib.SMTP) -> None:
        try:
            client.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        client = self._open()
        self._local().client = None
        if client is not None:
            _close_quietly(client)

    def close(self) -> None:
        """Say goodbye to the server (QUIT) on this thread's connection, if one is open."""
        self._drop()

    def _tls_context(self) -> ssl_module.SSLContext:
        # Reading the CA store costs ~60 ms: once per provider, and only if TLS is used.
        if getattr(self, "_context", None) is None:
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
        client.ehlo_or_helo_if_needed()
        if self.starttls:
            client.starttls(context=context)
            client.ehlo()
        return client

    def status(self, message: OutgoingMessage, provider_message_id: str = "") -> SendResult:
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


def _bare_address(value: str) -> str:
    match = re.search(r"<([^>]+)>", value)
    return match.group(1) if match else value.strip()


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
