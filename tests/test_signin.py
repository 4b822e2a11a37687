"""Sign-in against hostile requests: cross-site forms, redirects off the site, NUL bytes, sessions that must end."""

from __future__ import annotations

import http.client
import http.server
import re
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
import sqlalchemy as sa

from dashboard import accounts, safeurl
from tests import dash_client
from tests.conftest import AppProcess, free_port, known_database

SECRET = "signin-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def known_db(pg_admin_url):
    with known_database(pg_admin_url) as engine:
        for name in ("anna", "carl", "dora", "emil"):
            accounts.add_user(engine, name, f"{name}-password", ["BER"])
        yield engine


@pytest.fixture(scope="module")
def app(known_db):
    proc = AppProcess(
        known_db.url.render_as_string(hide_password=False),
        AUTH="password",
        SECRET_KEY=SECRET,
        LOGIN_ATTEMPTS="3",
        REFRESH_SECONDS="60",
        SESSION_HOURS="6",
    )
    yield proc
    proc.stop()


def _signed_in(app, name: str) -> requests.Session:
    s, r = dash_client.sign_in(app.url, name, f"{name}-password")
    assert r.status_code == 302, r.text
    return s


def _oee(app, cookies) -> int:  # noqa: ANN001
    return requests.get(app.url + "/oee", cookies=cookies, allow_redirects=False).status_code


# --- 1. the form's token: a browser with no session has none, and nothing matches it
def test_a_post_without_a_session_never_signs_in(app):
    for token in ("-", "", "None", "null"):
        r = requests.post(
            app.url + "/login",
            data={"username": "anna", "password": "anna-password", "csrf": token},
            allow_redirects=False,
        )
        assert r.status_code == 400 and "out of date" in r.text
        assert _oee(app, r.cookies) == 302


@pytest.fixture
def other_site():
    """Another origin serving a page whose form posts itself to the app's sign-in, as an attacker's would."""
    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = pages.get(self.path, b"")
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.2", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.2:{port}", pages
    server.shutdown()


@pytest.mark.browser
def test_a_form_on_another_site_cannot_sign_a_browser_in(app, other_site, browser):
    base, pages = other_site
    pages["/"] = f"""<form id=f method=post action="{app.url}/login">
        <input name=username value=anna><input name=password value=anna-password><input name=csrf value=->
        <input name=next value=/oee></form><script>document.getElementById('f').submit()</script>""".encode()
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + "/")
    page.wait_for_url(app.url + "/login", timeout=15000)
    assert "out of date" in page.content()
    page.goto(app.url + "/oee")
    assert page.url.startswith(app.url + "/login")  # still nobody signed in
    context.close()


# --- 2 and 3. every redirect target is a parsed local path
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("/oee", "/oee"),
        ("/oee?range=7d&plant=BER", "/oee?range=7d&plant=BER"),
        ("/wall?plant=DET,PNQ", "/wall?plant=DET,PNQ"),
        ("/a//b/../c", "/a/c"),
        ("//evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/%09/evil.example", "/"),
        ("/\n/x", "/"),
        ("/\r/x", "/"),
        ("/\\evil.example", "/"),
        ("/%5cevil.example", "/"),
        ("https://evil.example/", "/"),
        ("evil.example", "/"),
        ("/x\x00", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_local_path(raw, expected):
    assert safeurl.local_path(raw) == expected


@pytest.mark.parametrize("nxt", ["/%09/evil.example", "/%0a/x", "/%0d/x", "//evil.example", "/%5c%5cevil.example"])
def test_next_never_leaves_the_site(app, nxt):
    s = requests.Session()
    token = dash_client.form_token(app.url, s)
    r = s.post(
        app.url + "/login?next=" + nxt,
        data={"username": "dora", "password": "dora-password", "csrf": token},
        allow_redirects=False,
    )
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert s.get(app.url + "/login?next=" + nxt).status_code == 200  # the form itself does not fail either


def test_the_wall_token_handoff_never_leaves_the_site(app, known_db):
    token = accounts.add_token(known_db, "hall", ["BER"], ["oee"])
    for path in ("/%09/evil.example/x", "/%0a/evil.example", "//evil.example/x"):
        r = requests.get(f"{app.url}{path}?token={token}", allow_redirects=False)
        assert r.status_code < 500
        assert _stays(app, r.headers.get("Location", "/"))
    r = requests.get(f"{app.url}/wall?token={token}&rotate=20", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/wall?rotate=20"


def _stays(app, location: str) -> bool:  # noqa: ANN001
    """Where a browser goes with this Location: it drops tabs and newlines and reads a backslash as a slash."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    return urlsplit(urljoin(app.url + "/x/y", cleaned)).netloc == urlsplit(app.url).netloc


def test_a_wall_link_does_not_replace_a_persons_session(app, known_db):
    token = accounts.add_token(known_db, "lobby", ["BER"], ["oee"])
    s = _signed_in(app, "emil")
    r = s.get(f"{app.url}/wall?token={token}", allow_redirects=False)
    assert r.status_code == 409 and "signed in as emil" in r.text
    assert s.get(app.url + "/oee", allow_redirects=False).status_code == 200  # still emil


# --- 9. a NUL byte is a wrong user name, and counts as an attempt
def test_a_nul_in_the_user_name_is_a_failed_attempt(app, known_db):
    s = requests.Session()
    token = dash_client.form_token(app.url, s)
    r = s.post(app.url + "/login", data={"username": "an\x00na", "password": "x", "csrf": token})
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    with known_db.connect() as conn:
        counted = conn.execute(sa.text("select attempts from login_attempt where key like '%:u:an?na'")).scalar()
    assert counted == 1


# --- 7. sessions end on the server
def test_sign_out_ends_a_copied_session(app):
    s = _signed_in(app, "carl")
    copied = dict(s.cookies)
    assert _oee(app, copied) == 200
    s.get(app.url + "/logout")
    _eventually(lambda: _oee(app, copied) == 302)  # within the principal memo (2 s)


def test_a_new_password_ends_old_sessions(app, known_db):
    s = _signed_in(app, "dora")
    copied = dict(s.cookies)
    accounts.add_user(known_db, "dora", "dora-password", ["BER"])  # the same call a password change makes
    _eventually(lambda: _oee(app, copied) == 302)
    assert _oee(app, dict(_signed_in(app, "dora").cookies)) == 200


def test_the_cookie_lives_as_long_as_a_sign_in(app):
    _, r = dash_client.sign_in(app.url, "anna", "anna-password")
    expires = re.search(r"Expires=([^;]+)", r.headers["Set-Cookie"]).group(1)
    lifetime = time.mktime(time.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT")) - time.mktime(time.gmtime())
    assert 5.9 * 3600 < lifetime <= 6.01 * 3600  # SESSION_HOURS=6, not 400 days


def _eventually(check, seconds: float = 6) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "did not happen"
        time.sleep(0.2)


def test_unknown_scripts_are_404_without_a_traceback(app):
    for path in ("/_dash-component-suites/dash/deps/nothing.js", "/_dash-component-suites/../../../etc/passwd"):
        assert raw_get(app.url, path)[0] == 404, path
    assert "Traceback" not in Path(app.log.name).read_text()


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """GET exactly this path: no client-side normalisation of dots, slashes or escapes."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body
