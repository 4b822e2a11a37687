"""Several app hosts for real: gunicorn in network namespaces behind HAProxy, one Redis, a PostgreSQL primary and a
hot standby (pg_basebackup, streaming replication), all started from deploy/ configs; for tests and bench.cluster.

Everything listens on loopback or on this harness's own veth links (10.2xx.N.0/24, a /16 per harness); PostgreSQL runs as the
`postgres` user from the machine's binaries in data folders under .data/, on ports of its own."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy as sa

from dashboard import db
from tests import dash_client
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def namespaces_allowed() -> str | None:
    """None when this machine lets us make network namespaces and run the pieces; else the reason, in words."""
    if os.geteuid() != 0:
        return "needs root for `ip netns` (network namespaces with veth links)"
    for tool in ("ip", "haproxy", "redis-server", "curl"):
        if not shutil.which(tool):
            return f"{tool} is not installed (./scripts/test installs it when run as root)"
    if not (PG_BIN / "pg_basebackup").exists():
        return f"PostgreSQL server binaries are not in {PG_BIN} (set PG_BIN)"
    probe = f"pdprobe{os.getpid() % 100000}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode:
        return f"`ip netns add` is not allowed here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _run(*cmd: str, check: bool = True, **kw) -> subprocess.CompletedProcess:  # noqa: ANN003
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


def _as_postgres(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run("runuser", "-u", "postgres", "--", *cmd, check=check)


@dataclass
class Host:
    index: int
    ns: str
    ip: str  # the app's address inside its namespace
    gateway: str  # the root namespace's end of the veth link: how the host reaches PostgreSQL and Redis
    proc: subprocess.Popen | None = None


@dataclass
class Cluster:
    hosts_n: int = 2
    workers: int = 1
    refresh_s: int = 5
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    hosts: list[Host] = field(default_factory=list)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.net = f"10.{200 + int(self.tag, 16) % 50}"  # two harnesses at once do not share addresses
        self.dir = ROOT / ".data" / f"cluster-{self.tag}"
        self.pg_port, self.standby_port, self.redis_port = free_port(), free_port(), free_port()
        self.lb_port = free_port()
        self.lb = f"http://127.0.0.1:{self.lb_port}"

    # --- the network
    def _network(self) -> None:
        for i in range(1, self.hosts_n + 1):
            ns, root_if, ns_if = f"pd{self.tag}h{i}", f"pd{self.tag}r{i}", f"pd{self.tag}n{i}"
            gw, ip = f"{self.net}.{i}.1", f"{self.net}.{i}.2"
            _run("ip", "netns", "add", ns)
            _run("ip", "link", "add", root_if, "type", "veth", "peer", "name", ns_if)
            _run("ip", "link", "set", ns_if, "netns", ns)
            _run("ip", "addr", "add", f"{gw}/24", "dev", root_if)
            _run("ip", "link", "set", root_if, "up")
            for cmd in (
                ["ip", "addr", "add", f"{ip}/24", "dev", ns_if],
                ["ip", "link", "set", ns_if, "up"],
                ["ip", "link", "set", "lo", "up"],
            ):
                _run("ip", "netns", "exec", ns, *cmd)
            self.hosts.append(Host(i, ns, ip, gw))

    def _listen(self) -> str:
        return ",".join(["127.0.0.1"] + [h.gateway for h in self.hosts])

    # --- PostgreSQL primary and standby
    def _pg_dir(self, role: str) -> Path:
        return self.dir / role

    def _pg_ctl(self, role: str, action: str, check: bool = True) -> None:
        port = self.pg_port if role == "primary" else self.standby_port
        d = self._pg_dir(role)
        opts = f"-p {port} -c listen_addresses={self._listen()} -c unix_socket_directories={d}"
        _as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(d),
            "-o",
            opts,
            "-l",
            str(d / "log"),
            "-w",
            "-m",
            "fast",
            action,
            check=check,
        )

    def _postgres(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.dir, "postgres")
        primary = self._pg_dir("primary")
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(primary), "-A", "trust", "-U", "postgres", "--no-sync")
        with open(primary / "pg_hba.conf", "a") as f:
            f.write(f"host all all {self.net}.0.0/16 trust\nhost replication all {self.net}.0.0/16 trust\n")
        self._pg_ctl("primary", "start")
        admin = db.create(self.url("127.0.0.1", self.pg_port, "postgres"), pool_size=1)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("create database plant"))
        admin.dispose()
        standby = self._pg_dir("standby")
        _as_postgres(
            str(PG_BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.pg_port),
            "-U",
            "postgres",
            "-D",
            str(standby),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
        )
        self._pg_ctl("standby", "start")

    @staticmethod
    def url(host: str, port: int, database: str = "plant") -> str:
        return f"postgresql://postgres@{host}:{port}/{database}"

    def primary(self) -> sa.Engine:
        return db.create(self.url("127.0.0.1", self.pg_port), pool_size=2)

    def standby(self) -> sa.Engine:
        return db.create(self.url("127.0.0.1", self.standby_port), pool_size=2)

    # --- Redis
    def start_redis(self) -> None:
        d = self.dir / "redis"
        d.mkdir(exist_ok=True)
        cmd = [
            "redis-server",
            "--port",
            str(self.redis_port),
            "--bind",
            *self._listen().split(","),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--dir",
            str(d),
        ]
        self.procs["redis"] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: _run("redis-cli", "-p", str(self.redis_port), "ping", check=False).stdout.strip() == "PONG")

    def stop_redis(self) -> None:
        _stop(self.procs.pop("redis"))

    # --- the data feed (writes go to the primary)
    def seed_and_feed(self, days: int = 2, machines: int = 12) -> None:
        env = {**os.environ, "DATABASE_URL": self.url("127.0.0.1", self.pg_port), "LOG_LEVEL": "WARNING"}
        _run(sys.executable, "-m", "dashboard.migrate", cwd=ROOT, env=env)
        common = [
            "--days",
            str(days),
            "--plants",
            "3",
            "--machines",
            str(machines),
            "--hf-hours",
            "0",
            "--sensors",
            "1",
            "--step",
            "600",
        ]
        _run(sys.executable, "-m", "dashboard.simulate", *common, "--no-live", cwd=ROOT, env=env, timeout=300)
        log = open(self.dir / "feed.log", "w")  # noqa: SIM115
        self.procs["feed"] = subprocess.Popen(
            [sys.executable, "-m", "dashboard.simulate", *common, "--interval", "2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )

    # --- app hosts
    def host_env(self, h: Host) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMETHEUS", "REDIS_URL", "DATABASE"))}
        return (
            env
            | {
                "DATABASE_URL": self.url(h.gateway, self.pg_port),
                "READER_DATABASE_URL": self.url(h.gateway, self.standby_port),
                "REDIS_URL": f"redis://{h.gateway}:{self.redis_port}/0",
                "DEMO": "0",
                "WALL_REFRESH_SECONDS": str(self.refresh_s),
                "REFRESH_SECONDS": str(self.refresh_s),
                "LOG_LEVEL": "WARNING",
                "HOST": h.ip,
                "PORT": "8050",
                "WEB_CONCURRENCY": str(self.workers),
                "PROMETHEUS_MULTIPROC_DIR": str(self.dir / f"metrics-h{h.index}"),
            }
            | self.extra_env
        )

    def start_host(self, h: Host) -> None:
        env = self.host_env(h)
        Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
        log = open(self.dir / f"host{h.index}.log", "a")  # noqa: SIM115
        cmd = [
            "ip",
            "netns",
            "exec",
            h.ns,
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            "app:server",
        ]
        h.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
        _wait(lambda: _netns_get(h, "/healthz") == 200, timeout=90, what=f"host {h.index} to answer /healthz")

    def stop_host(self, h: Host) -> None:
        if h.proc is not None:
            _stop(h.proc)
            h.proc = None

    # --- HAProxy
    def start_haproxy(self) -> None:
        env = {**os.environ, "PD_LISTEN": f"127.0.0.1:{self.lb_port}"}
        for h in self.hosts:
            env[f"PD_APP{h.index}"] = f"{h.ip}:8050"
        log = open(self.dir / "haproxy.log", "w")  # noqa: SIM115
        self.procs["haproxy"] = subprocess.Popen(
            ["haproxy", "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")], env=env, stdout=log, stderr=log
        )
        _wait(lambda: _get(self.lb + "/healthz") == 200, what="HAProxy to pass a request")

    # --- the whole thing
    def start(self) -> Cluster:
        try:
            self._network()
            self._postgres()
            self.start_redis()
            self.seed_and_feed()
            for h in self.hosts:
                self.start_host(h)
            self.start_haproxy()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for h in self.hosts:
            self.stop_host(h)
        for name in list(self.procs):
            _stop(self.procs.pop(name))
        for role in ("standby", "primary"):
            if (self._pg_dir(role) / "postmaster.pid").exists():
                self._pg_ctl(role, "stop", check=False)
        for h in self.hosts:
            _run("ip", "link", "del", f"pd{self.tag}r{h.index}", check=False)
            _run("ip", "netns", "del", h.ns, check=False)
        if not os.environ.get("PD_CLUSTER_KEEP"):  # set it to read the logs after a failure
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- faults
    def stop_standby(self) -> None:
        self._pg_ctl("standby", "stop")

    def start_standby(self) -> None:
        self._pg_ctl("standby", "start")

    def restart_primary(self) -> None:
        self._pg_ctl("primary", "restart")

    def replication_caught_up(self) -> bool:
        p, s = self.primary(), self.standby()
        try:
            with p.connect() as a, s.connect() as b:
                want = a.execute(sa.text("select pg_current_wal_lsn()")).scalar_one()
                got = b.execute(sa.text("select pg_last_wal_replay_lsn() >= cast(:w as pg_lsn)"), {"w": want}).scalar()
                return bool(got)
        finally:
            p.dispose()
            s.dispose()

    # --- what a wall screen sends
    def wall_payloads(self) -> list[dict]:
        """The wall's refresh callback for every slide (each plant, both views), as the browser sends it."""
        s = requests.Session()
        cb = dash_client.find(dash_client.server_callbacks(self.lb, s), "wall-plant.children")
        engine = self.primary()
        with engine.connect() as conn:
            plants = conn.execute(sa.text("select plant_id, tz from plant order by plant_id")).all()
        engine.dispose()
        slides = [[v, p, tz] for p, tz in plants for v in ("oee", "inventory")]
        config = {"slides": slides, "refresh": self.refresh_s, "rotate": 30}
        return [
            dash_client.body(cb, dash_client.by_id(cb, {"wall-tick": 1, "wall-slide": i, "wall-config": config}))
            for i in range(len(slides))
        ]


def _get(url: str) -> int:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return 0


def _netns_get(h: Host, path: str) -> int:
    out = _run(
        "ip",
        "netns",
        "exec",
        h.ns,
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-m",
        "5",
        f"http://{h.ip}:8050{path}",
        check=False,
    )
    return int(out.stdout or 0)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(25)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _wait(ok: Callable[[], bool], timeout: float = 60, what: str = "a service") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ok():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.3)
    raise RuntimeError(f"timed out waiting for {what}")


@dataclass
class Sample:
    t: float
    ms: float
    status: int  # 0: no answer at all
    phase: str


class WallLoad:
    """Screens refreshing every ``every`` seconds through the load balancer, spread evenly over the interval; each
    request's time, status and the phase it was sent in are kept. Bounded: it stops at ``stop()``."""

    def __init__(self, base: str, payloads: list[dict], screens: int, every: float, threads: int = 64) -> None:
        self.base, self.payloads, self.screens, self.every = base, payloads, screens, every
        self.samples: list[Sample] = []
        self.phase = "before"
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(k, threads), daemon=True) for k in range(threads)]
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "s"):
            self._local.s = requests.Session()
        return self._local.s

    def _run(self, k: int, n_threads: int) -> None:
        mine = list(range(k, self.screens, n_threads))  # this thread's screens, each at its own offset
        if not mine:
            return
        start = time.monotonic()
        due = {s: start + self.every * s / self.screens for s in mine}
        tick = dict.fromkeys(mine, 0)
        while not self._stop.is_set():
            s = min(due, key=due.get)
            wait = due[s] - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            body = json.loads(json.dumps(self.payloads[(s + tick[s]) % len(self.payloads)]))
            tick[s] += 1
            phase, t0 = self.phase, time.monotonic()
            try:
                status = self._session().post(self.base + "/_dash-update-component", json=body, timeout=10).status_code
            except requests.RequestException:
                status = 0
            self.samples.append(Sample(t0, (time.monotonic() - t0) * 1000, status, phase))
            due[s] += self.every

    def start(self) -> WallLoad:
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(15)

    def failures(self, phase: str | None = None) -> list[Sample]:
        return [s for s in self.samples if s.status not in (200, 204) and (phase is None or s.phase == phase)]
