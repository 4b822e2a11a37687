"""Serve Bootstrap's CSS from the bootstrap-flask wheel, so no page depends on a CDN."""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, Flask

BOOTSTRAP_DIR = files("flask_bootstrap") / "static" / "bootstrap5" / "css"
BOOTSTRAP_CSS = "/vendor/bootstrap/bootstrap.min.css"

_vendor = Blueprint("vendor", __name__, static_folder=str(BOOTSTRAP_DIR), static_url_path="/vendor/bootstrap")


def init_app(server: Flask) -> None:
    server.register_blueprint(_vendor)
