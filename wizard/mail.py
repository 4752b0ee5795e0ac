"""E-mail: a message's subject, plain text and HTML from one template, and sending it with Flask-Mailman.

A message is rendered when it is written to the outbox (in the order's transaction, in the recipient's
language) and sent later by the queue, so sending needs no request, template or database read.
Without MAIL_SERVER, messages are written as .eml files under instance/mail/ instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from email.utils import parseaddr

from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from flask_mailman import EmailMultiAlternatives, Mail
from flask_mailman.backends.base import BaseEmailBackend

from .outbox import Letter

mail = Mail()


def init_app(app: Flask) -> None:
    """Flask-Mailman from the MAIL_* settings; mounted in a host that set it up itself, the host's."""
    if "mailman" not in app.extensions:
        mail.init_app(app)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: str, **context) -> Rendered:
    """templates/wizard/mail/<kind>.html's three blocks (subject, text, html) in the current language
    (the caller sets it with flask_babel.force_locale)."""
    env = current_app.jinja_env
    template = env.get_or_select_template(f"wizard/mail/{kind}.html")
    values = {**context, "lang": str(get_locale())}
    parts = {name: "".join(template.blocks[name](template.new_context(values))) for name in ("subject", "text", "html")}
    return Rendered(" ".join(parts["subject"].split()), parts["text"].strip() + "\n", parts["html"].strip() + "\n")


def letter(kind: str, reader, speaking: str, key: str | None = None, **context) -> Letter:
    """`kind`'s letter to `reader` (a User), in the language they chose, else `speaking` (the language
    of whoever caused it), for the outbox under `key` (default: the kind)."""
    locale = reader.locale or speaking
    with force_locale(locale):
        rendered = render(kind, **context)
    return Letter(key or kind, reader.email, locale, rendered.subject, rendered.text, rendered.html)


def message_id(reference: str, outbox_id: int) -> str:
    """The same Message-ID for every attempt at one outbox row, so a message sent twice (a worker that
    died after the server took it) is one message to mail clients, and one .eml file."""
    domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2] or "localhost"
    return f"<{reference}.{outbox_id}@{domain}>"


def send(recipient: str, subject: str, text: str, html: str, msgid: str, locale: str) -> None:
    """Send one message now (SMTP, or an .eml file without MAIL_SERVER); raises when it could not."""
    message = EmailMultiAlternatives(
        subject, text, to=[recipient], headers={"Message-ID": msgid, "Content-Language": locale}
    )
    message.attach_alternative(html, "text/html")
    with mail.get_connection(backend=backend(), fail_silently=False) as connection:
        connection.send_messages([message])


def backend():
    """MAIL_BACKEND when set (e.g. 'console'); else SMTP with a MAIL_SERVER, .eml files without."""
    config = current_app.config
    return config.get("MAIL_BACKEND") or ("smtp" if config.get("MAIL_SERVER") else EmlFileBackend)


def mail_folder() -> str:
    return os.path.join(current_app.instance_path, "mail")


class EmlFileBackend(BaseEmailBackend):
    """Each message as an .eml file under instance/mail/, named by its Message-ID (a message sent
    again overwrites its own file): what a developer opens in a mail client without an SMTP server."""

    def send_messages(self, email_messages) -> int:
        folder = mail_folder()
        os.makedirs(folder, exist_ok=True)
        for message in email_messages:
            mime = message.message()
            name = str(mime["Message-ID"]).strip("<>").partition("@")[0]
            path = os.path.join(folder, f"{name}.eml")
            with open(path + ".part", "wb") as fh:
                fh.write(mime.as_bytes())
            os.replace(path + ".part", path)  # whole or not at all
        return len(email_messages)
