"""`python -m dashboard.accounts`: every refusal is one line in words and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dashboard import accounts
from tests.conftest import ROOT
from tests.known import load_known


@pytest.fixture
def plant_db(db_engine):
    load_known(db_engine)  # plants BER and CCU
    return db_engine.url.render_as_string(hide_password=False)


def _run(url: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PASSWORD"}
    env["DATABASE_URL"] = url
    if password is not None:
        env["PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "dashboard.accounts", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,  # no terminal, as in a script or CI
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args, password, message",
    [
        (["add-user", "bob", "--plants", "XYZ"], "a-fine-long-passphrase", "error: unknown plant 'XYZ'; the plants are: BER, CCU."),
        (["add-user", "bob", "--plants", "BER"], None, "error: set PASSWORD in the environment, or run this in a terminal to be asked for it."),
        (["add-user", "bob", "--plants", "BER"], "x", "error: the password must have at least 10 characters."),
        (["add-user", "bob", "--plants", "BER"], "password123", "error: the password is too easy to guess: This is a very common password."),
        (["add-user", "bob", "--plants", "BER"], "qwertyuiop", "error: the password is too easy to guess: This is a top-100 common password."),
        (["add-user", "bob"], "a-fine-long-passphrase", "error: say which plants the user may see: --plants ID,ID or --all-plants."),
        (["add-user", "bad name!", "--plants", "BER"], "a-fine-long-passphrase", "error: 'bad name!' is not a user name: use 1-64 letters, digits, '.', '_', '@' or '-'."),
        (["disable-user", "nobody"], None, "error: there is no user 'nobody'."),
        (["revoke-token", "nothing"], None, "error: there is no active token named 'nothing'."),
        (["add-token", "hall", "--plants", "XYZ"], None, "error: unknown plant 'XYZ'; the plants are: BER, CCU."),
        (["add-token", "hall", "--plants", "BER", "--views", "oee,weather"], None, "error: unknown wall view 'weather'; choose from oee, inventory."),
    ],
)  # fmt: skip
def test_refusals_are_one_line(plant_db, args, password, message):
    done = _run(plant_db, *args, password=password)
    assert done.returncode != 0
    assert done.stderr.strip() == message and "Traceback" not in done.stderr


def test_a_database_that_is_away_is_one_line():
    done = _run("postgresql://postgres@127.0.0.1:9/plant", "disable-user", "x")
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: Cannot reach the database plant on 127.0.0.1:9")


def test_the_readme_commands_work(plant_db, db_engine):
    said = lambda *args, **kw: _run(plant_db, *args, **kw).stdout.splitlines()  # noqa: E731
    first, saved = said("add-user", "maria", "--plants", "BER", password="maria-2026-plant")
    assert first.startswith("database: ") and saved == "user maria saved"  # it names the database it used
    assert _run(plant_db, "add-user", "ceo", "--all-plants", password="ceo-sees-everything").returncode == 0
    assert said("add-token", "lobby-screen", "--plants", "BER", "--views", "oee")[1].startswith(
        "open once on the screen: /wall?token="
    )
    assert said("revoke-token", "lobby-screen")[1] == "1 token(s) revoked"
    assert accounts.user(db_engine, "maria").plants == frozenset({"BER"})
    assert accounts.user(db_engine, "ceo").plants is None
    assert accounts.verify(db_engine, "maria", "maria-2026-plant") is not None


def test_a_mistyped_command_is_one_line(plant_db):
    done = _run(plant_db, "add-usr", "bob")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: argument cmd: invalid choice: 'add-usr'") and "see --help" in done.stderr
