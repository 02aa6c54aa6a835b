"""The product deployed across hosts (network namespaces, see netns.py), as the README's "Running on
several machines" describes it:

    db        PostgreSQL (a private cluster, initdb'd for the run) and Redis
    shopify   the simulator (it plays Shopify, another machine on the internet)
    web       the web app (gunicorn) and beat, exactly one
    worker-1  a Celery worker on sync, maintenance, webhooks
    worker-2  the same

Every product process gets the same `DATABASE_URL`, `CELERY_BROKER_URL` and secrets (`SECRET_KEY`,
`FIELD_ENCRYPTION_KEYS`: a worker must decrypt the token the web host stored). The test process
reaches PostgreSQL through its Unix socket (a file, so it crosses namespaces) and the hosts' HTTP
through `Network.run_in`; it never gets a route to the subnet.
"""

from __future__ import annotations

import concurrent.futures
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from cryptography.fernet import Fernet

from shopify_sim.cli import READY_PREFIX
from tests.fleet.netns import PREFIX, Network, pid_alive, stale_namespaces_remove
from tests.processes import ROOT, ManagedProcess, celery_worker

SETTINGS = "tests.fleet.settings"
QUEUES = ("sync", "sync_backfill", "maintenance", "webhooks")
POSTGRES_PORT = 5432
REDIS_PORT = 6379
SIMULATOR_PORT = 8001
WEB_PORT = 8000
# PostgreSQL notices a peer that vanished (a partition sends no FIN or RST) within seconds instead of
# the kernel's two hours, and ends its session: a cut-off worker's open transaction is rolled back
# and its row locks released, so the host taking over is not blocked behind them.
DEAD_CLIENT_DETECTION = {
    "tcp_keepalives_idle": "2",
    "tcp_keepalives_interval": "1",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "5000",
    "client_connection_check_interval": "2000",
}


@dataclass
class Fleet:
    network: Network
    workdir: Path
    log_dir: Path
    env: dict[str, str]  # what every product process shares
    socket_dir: Path
    simulator_url: str
    web_url: str
    simulator_options: dict[str, Any] = field(default_factory=dict)  # its CLI flags: shop, token, store
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    @property
    def workers(self) -> dict[str, ManagedProcess]:
        return {name: process for name, process in self.processes.items() if name.startswith("worker-")}

    def manage(self, host: str, *args: str, timeout: float = 180.0) -> str:
        """`manage.py ARGS` run once on `host` (an operator's shell there); its output, or raises."""
        return self.run(host, [sys.executable, "manage.py", *args], timeout=timeout)

    def run(self, host: str, argv: list[str], timeout: float = 180.0) -> str:
        result = subprocess.run(
            ["ip", "netns", "exec", self.network.hosts[host].netns, *argv], cwd=ROOT,
            env={**os.environ, **self.env}, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} on {host} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(host=str(self.socket_dir), port=POSTGRES_PORT, user="postgres",
                             dbname="shopsync", autocommit=True) as conn:  # fmt: skip
            return conn.execute(query, params).fetchall()

    def logs(self) -> str:
        return "\n\n".join(f"--- {name}\n{process.log_tail(40)}" for name, process in self.processes.items())


@contextmanager
def fleet_running(
    *, log_dir: Path, simulator_options: dict[str, Any], env: dict[str, str]
) -> Iterator[Fleet]:
    """Build the network, start every process, migrate; tear all of it down on the way out, whatever
    happened (processes first, then the namespaces, then the PostgreSQL cluster's files)."""
    stale_namespaces_remove()
    _stale_workdirs_remove()
    with ExitStack() as stack:
        network = stack.enter_context(Network())
        for name in ("db", "shopify", "web", "worker-1", "worker-2"):
            network.add_host(name)
        workdir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        fleet = _fleet(network=network, workdir=workdir, log_dir=log_dir, env=env)
        fleet.simulator_options = simulator_options
        stack.callback(_stop_all, fleet)
        _start_db_host(fleet)
        _start_simulator_and_migrate(fleet, simulator_options)
        _start_in_parallel(fleet, ["web", "beat", "worker-1", "worker-2"])
        yield fleet


def _stale_workdirs_remove() -> None:
    """The PostgreSQL clusters and stores of runs killed before their cleanup."""
    for workdir in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        pid = workdir.name.removeprefix(PREFIX).split("-")[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(workdir, ignore_errors=True)


def _fleet(*, network: Network, workdir: Path, log_dir: Path, env: dict[str, str]) -> Fleet:
    db = network.hosts["db"]
    shared = {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": f"postgres://postgres@{db.ip}:{POSTGRES_PORT}/shopsync",
        "CELERY_BROKER_URL": f"redis://{db.ip}:{REDIS_PORT}/0",
        "SECRET_KEY": f"fleet-{uuid.uuid4().hex}",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": network.hosts["web"].ip,
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    return Fleet(
        network=network, workdir=workdir, log_dir=log_dir, env=shared, socket_dir=workdir / "pg",
        simulator_url=f"http://{network.hosts['shopify'].ip}:{SIMULATOR_PORT}",
        web_url=f"http://{network.hosts['web'].ip}:{WEB_PORT}",
    )  # fmt: skip


def _stop_all(fleet: Fleet) -> None:
    for process in reversed(fleet.processes.values()):
        process.kill()


def _start_db_host(fleet: Fleet) -> None:
    db = fleet.network.hosts["db"]
    bindir = _postgres_bindir()
    data = fleet.socket_dir / "data"
    fleet.socket_dir.mkdir(mode=0o755)
    fleet.workdir.chmod(0o755)
    postgres = pwd.getpwnam("postgres")
    os.chown(fleet.socket_dir, postgres.pw_uid, postgres.pw_gid)
    # PostgreSQL refuses to run as root: the cluster belongs to the system's postgres user.
    as_postgres = [
        "setpriv",
        f"--reuid={postgres.pw_uid}",
        f"--regid={postgres.pw_gid}",
        "--clear-groups",
        "--",
    ]
    subprocess.run([*as_postgres, f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "-A", "trust",
                    "--no-sync", "--no-instructions"], check=True, capture_output=True, timeout=120)  # fmt: skip
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {db.ip.rsplit('.', 1)[0]}.0/24 trust\n")
    settings = {
        "listen_addresses": db.ip, "port": str(POSTGRES_PORT), "unix_socket_directories": str(fleet.socket_dir),
        "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", **DEAD_CLIENT_DETECTION,
    }  # fmt: skip
    fleet.processes["postgres"] = ManagedProcess(
        name="postgres", netns=db.netns, log_path=fleet.log_dir / "postgres.log",
        argv=[*as_postgres, f"{bindir}/postgres", "-D", str(data),
              *(arg for name, value in settings.items() for arg in ("-c", f"{name}={value}"))],
        ready=lambda process: process.log_count("ready to accept connections") >= process.starts,
    )  # fmt: skip
    fleet.processes["redis"] = ManagedProcess(
        name="redis", netns=db.netns, log_path=fleet.log_dir / "redis.log",
        argv=["redis-server", "--bind", db.ip, "--port", str(REDIS_PORT), "--protected-mode", "no",
              "--save", "", "--appendonly", "no"],
        ready=lambda process: process.log_count("Ready to accept connections") >= process.starts,
    )  # fmt: skip
    _start_in_parallel(fleet, ["postgres", "redis"])
    subprocess.run([*as_postgres, f"{bindir}/createdb", "-h", str(fleet.socket_dir), "-p", str(POSTGRES_PORT),
                    "shopsync"], check=True, capture_output=True, timeout=60)  # fmt: skip


def _postgres_bindir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda path: int(path.split("/")[4]))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return str(Path(found[-1]).parent)


def _start_simulator_and_migrate(fleet: Fleet, simulator_options: dict[str, Any]) -> None:
    """The simulator generates its store while the web host runs the migrations."""
    shopify = fleet.network.hosts["shopify"]
    options = [
        arg
        for name, value in simulator_options.items()
        for arg in (f"--{name.replace('_', '-')}", str(value))
    ]
    fleet.processes["simulator"] = ManagedProcess(
        name="simulator", netns=shopify.netns, log_path=fleet.log_dir / "simulator.log",
        argv=[sys.executable, "-m", "shopify_sim", "--host", shopify.ip, "--port", str(SIMULATOR_PORT),
              "--data-dir", str(fleet.workdir / "sim"), *options],
        env={"PYTHONUNBUFFERED": "1"},
        ready=lambda process: process.log_count(READY_PREFIX) >= process.starts,
    )  # fmt: skip
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as background:
        migrated = background.submit(fleet.manage, "web", "migrate", "--noinput", timeout=300)
        fleet.processes["simulator"].start(timeout=300)
        migrated.result()


def _start_in_parallel(fleet: Fleet, names: list[str]) -> None:
    for name in names:
        if name not in fleet.processes:
            fleet.processes[name] = _product_process(fleet, name)
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as starting:
        for started in [starting.submit(fleet.processes[name].start, 120) for name in names]:
            started.result()


def _product_process(fleet: Fleet, name: str) -> ManagedProcess:
    hosts = fleet.network.hosts
    log_path = fleet.log_dir / f"{name}.log"
    if name.startswith("worker-"):
        return celery_worker(
            log_path=log_path, queues=QUEUES, database_url=fleet.env["DATABASE_URL"],
            broker_url=fleet.env["CELERY_BROKER_URL"], settings_module=SETTINGS, pool="threads",
            concurrency=2, name=name, env=fleet.env, netns=hosts[name].netns,
        )  # fmt: skip
    if name == "beat":
        return ManagedProcess(
            name="beat", netns=hosts["web"].netns, log_path=log_path, env=fleet.env,
            argv=[sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                  "--pidfile", str(fleet.workdir / "beat.pid")],
            ready=lambda process: process.log_count("beat: Starting") >= process.starts,
        )  # fmt: skip
    if name == "web":
        return ManagedProcess(
            name="web", netns=hosts["web"].netns, log_path=log_path, env=fleet.env, url=fleet.web_url,
            argv=[sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"{hosts['web'].ip}:{WEB_PORT}",
                  "--workers", "1", "--threads", "4"],
            ready=lambda process: process.log_count("Booting worker") >= process.starts,
        )  # fmt: skip
    raise ValueError(name)
