"""Gunicorn settings for the dashboard (`gunicorn -c deploy/gunicorn.conf.py app:server`, as the Procfile does).

gevent workers: a client that sends its request slowly holds one greenlet, not one of a few worker threads, so
slow or stalled clients cannot starve /healthz or the pages. psycopg2 is made cooperative after the fork, so a
query waits without blocking the worker. In production a buffering reverse proxy (HAProxy, deploy/haproxy.cfg)
sits in front as well and cuts off clients that take too long over their headers.

/metrics adds up every worker's numbers through prometheus-client's multiprocess mode: each worker writes its own
files in PROMETHEUS_MULTIPROC_DIR (one per gunicorn instance, emptied when it starts; .data/metrics-PORT unless set),
and a worker that exits is marked dead so its live gauges stop counting.
"""

import os
import shutil
from pathlib import Path

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gevent"
worker_connections = 1000  # open connections per worker, slow ones included
timeout = 60  # a worker silent this long (a runaway callback) is restarted
graceful_timeout = 20
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190


def post_fork(server, worker):  # noqa: ANN001, ANN201, ARG001 - gunicorn's hook signature
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()


_OWN_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):  # noqa: ANN001, ANN201, ARG001
    """Start every gunicorn instance with no numbers left over from a previous one; set before any worker imports
    prometheus_client, which reads the variable once."""
    if _OWN_DIR:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(
            Path(__file__).resolve().parent.parent / ".data" / f"metrics-{os.getpid()}"
        )
    where = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True, exist_ok=True)


def on_exit(server):  # noqa: ANN001, ANN201, ARG001
    if _OWN_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):  # noqa: ANN001, ANN201, ARG001
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
