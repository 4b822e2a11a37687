"""'Download PDF' on every page: the page as the asker sees it (their cookie, their plants) printed by Chromium."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Flask, Response, request

from dashboard import data, viewstate
from dashboard.config import Settings
from dashboard.reports import render, runner

PAGES = {"/": "Executive overview", "/oee": "OEE", "/inventory": "Inventory", "/explorer": "Sensor explorer",
         "/alerts": "Alerts"}


def link(pathname: str | None, fragment: str | None) -> str:
    """The download address for the page in view (the fragment never reaches a server, so it travels as 'view')."""
    return "/export/pdf?" + urlencode({"page": pathname or "/", "view": (fragment or "")[:2000]})


def init_app(server: Flask, settings: Settings) -> None:
    @server.route("/export/pdf")
    def download_pdf() -> Response | tuple:
        page = request.args.get("page", "/")
        if page not in PAGES:
            return f"There is no page {page[:60]!r} to print; choose one of {', '.join(PAGES)}.", 400
        # The fragment is parsed against what the asker may see and written back out: nothing else reaches the URL.
        view, _ = viewstate.parse(viewstate.from_fragment(request.args.get("view", "")), data.hierarchy())
        fragment = view.query().replace("?", "#", 1) if page in ("/", "/oee", "/inventory") else ""
        at = datetime.now(UTC)
        lines = runner.view_lines(data.hierarchy(), data.plants(), PAGES[page], fragment, "UTC", at)
        url = settings.base_url + page + fragment
        cookies = [{"name": k, "value": v, "url": settings.base_url} for k, v in request.cookies.items()]
        try:
            pdf = render.render(url, lines, [f"made {at:%Y-%m-%d %H:%M} UTC", url], cookies)
        except render.RenderError as exc:
            return f"The PDF could not be made: {exc}", 503
        name = f"{page.strip('/') or 'overview'}-{at:%Y%m%d-%H%M}.pdf"
        return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})
