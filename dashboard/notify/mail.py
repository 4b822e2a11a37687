"""Email over SMTP with the standard library: SMTP_URL says where and how (plain, STARTTLS or TLS) and who logs in."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

MODES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server; the text says why."""


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    mode: str  # plain, starttls or tls
    username: str = ""
    password: str = field(default="", repr=False)


def parse_url(url: str) -> Server:
    """smtp://host:25, smtp+starttls://user:password@host:587 or smtps://user:password@host:465."""
    parts = urlsplit(url.strip())
    if parts.scheme not in MODES:
        raise ValueError(f"SMTP_URL must start with {', '.join(s + '://' for s in MODES)}; got {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("SMTP_URL names no host")
    mode, port = MODES[parts.scheme]
    try:
        port = parts.port or port
    except ValueError:
        raise ValueError("SMTP_URL has a port that is not a number") from None
    return Server(parts.hostname, port, mode, unquote(parts.username or ""), unquote(parts.password or ""))


def message(sender: str, to: list[str], subject: str, text: str, html: str | None = None,
            attachments: list[tuple[str, bytes, str]] = ()) -> EmailMessage:
    """A plain-text message (with an HTML part and attachments when given: filename, bytes, 'type/subtype')."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), subject
    msg["Date"], msg["Message-ID"] = formatdate(localtime=False), make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, content, mimetype in attachments:
        maintype, _, subtype = mimetype.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg


def send(url: str, msg: EmailMessage, timeout: float = 10.0) -> None:
    """Hand ``msg`` to the server in ``url``; certificates are checked against the system's (or SSL_CERT_FILE's)."""
    server = parse_url(url)
    context = ssl.create_default_context()
    try:
        if server.mode == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with client:
            if server.mode == "starttls":
                client.starttls(context=context)
            if server.username:
                client.login(server.username, server.password)
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP {server.host}:{server.port} refused or unreachable: {exc}") from None
