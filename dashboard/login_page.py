"""The sign-in page and the short pages the gate answers with, as plain HTML in words."""

from __future__ import annotations

import secrets

from flask import session
from markupsafe import escape

from dashboard import static

_HEAD = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · Plant dashboards</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="{static.BOOTSTRAP_CSS}">
</head><body class="bg-light"><main class="container" style="max-width: 24rem; margin-top: 12vh">
<h1 class="h4 mb-3">Plant dashboards</h1>"""


def csrf_token() -> str:
    """This browser session's sign-in form token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def page(nxt: str, message: str, status: int, form: bool = True) -> tuple[str, int]:
    """The sign-in form (or, with ``form=False``, only the message), with ``next`` carried along."""
    alert = f'<div class="alert alert-warning py-2" role="alert">{escape(message)}</div>' if message else ""
    if not form:
        return (_HEAD + alert + "</main></body></html>", status)
    return (
        f"""{_HEAD}{alert}
<form method="post" action="/login"><input type="hidden" name="next" value="{escape(nxt)}">
<input type="hidden" name="csrf" value="{escape(csrf_token())}">
<div class="mb-2"><label class="form-label" for="username">User name</label>
<input class="form-control" id="username" name="username" autocomplete="username" required autofocus></div>
<div class="mb-3"><label class="form-label" for="password">Password</label>
<input class="form-control" id="password" name="password" type="password" autocomplete="current-password" required></div>
<button class="btn btn-primary w-100" type="submit">Sign in</button></form></main></body></html>""",
        status,
    )
