"""Several "machines" on this one: Linux network namespaces joined by veth pairs to a bridge.

The bridge lives in a namespace of its own (the hub), so the machine's own (root) namespace is left
untouched: no interface, address or route is added there. Every address of the private subnet
(10.213.0.0/24) is on an interface inside a test namespace, so its traffic cannot leave the machine;
the hub has no uplink at all. Cutting a host off is taking its veth end in the hub down: its processes
keep running, their packets go nowhere, and their peers see no FIN or RST (a partition, not a crash).

Names carry a prefix and this process's pid (`shopsync-fleet-<pid>-<n>-<host>`), so parallel runs
never collide, and namespaces a killed run left behind are recognised (their pid is gone) and removed
by the next run. Requires root and iproute2; `namespaces_unavailable()` says why not, if not.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

PREFIX = "shopsync-fleet-"
SUBNET = "10.213.0"  # .0/24, only ever inside the test namespaces
_NAME = re.compile(rf"^{re.escape(PREFIX)}(\d+)-")
_fleets = itertools.count(1)


def ip(*args: str, netns: str = "") -> str:
    argv = ["ip", *(["-n", netns] if netns else []), *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()}")
    return result.stdout


def namespaces_unavailable() -> str | None:
    """Why this machine cannot run the fleet tests (None if it can): found by creating a namespace
    with a veth pair and a bridge, exactly what `Network` does."""
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    if os.geteuid() != 0:
        return "network namespaces need root (run the suite as root, e.g. in the CI container)"
    probe = f"{PREFIX}{os.getpid()}-probe"
    try:
        ip("netns", "add", probe)
    except RuntimeError as exc:
        return f"cannot create a network namespace: {exc}"
    try:
        ip("link", "add", "br-probe", "type", "bridge", netns=probe)
        ip("link", "add", "v-probe", "type", "veth", "peer", "name", "eth0", netns=probe)
    except RuntimeError as exc:
        return f"cannot create a bridge or veth pair in a network namespace: {exc}"
    finally:
        namespace_delete(probe)
    return None


def namespace_delete(name: str) -> None:
    """SIGKILL whatever still runs inside (a veth end is only freed with its last process), then
    delete the namespace; its interfaces, and their veth peers, go with it."""
    pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, timeout=30)
    for pid in pids.stdout.split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=30)


def stale_namespaces_remove() -> list[str]:
    """Delete the namespaces of runs whose process is gone (killed before their cleanup ran)."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30).stdout
    removed = []
    for name in (line.split()[0] for line in listed.splitlines() if line.strip()):
        match = _NAME.match(name)
        if match and not pid_alive(int(match.group(1))):
            namespace_delete(name)
            removed.append(name)
    return removed


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True, slots=True)
class Host:
    name: str  # "db", "worker-1", ...
    netns: str  # the namespace its processes run in
    ip: str  # its address on the private subnet
    hub_link: str  # its veth end in the hub: down = the host is cut off


@dataclass
class Network:
    """A hub namespace with a bridge, and one namespace per host, each with an `eth0` on the bridge.
    Use as a context manager, or call `destroy()` (safe to call twice)."""

    hosts: dict[str, Host] = field(default_factory=dict)
    run_id: str = ""
    hub: str = ""
    _operators: dict[str, concurrent.futures.ThreadPoolExecutor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.run_id = self.run_id or f"{PREFIX}{os.getpid()}-{next(_fleets)}"
        self.hub = f"{self.run_id}-hub"
        ip("netns", "add", self.hub)
        ip("link", "add", "br0", "type", "bridge", netns=self.hub)
        ip("link", "set", "br0", "up", netns=self.hub)

    def add_host(self, name: str) -> Host:
        host = Host(
            name=name, netns=f"{self.run_id}-{name}", ip=f"{SUBNET}.{len(self.hosts) + 2}",
            hub_link=f"v{len(self.hosts) + 2}",
        )  # fmt: skip
        ip("netns", "add", host.netns)
        self.hosts[name] = host
        # Created inside the hub with its peer moved straight into the host: no name ever appears
        # in the root namespace, where a parallel run could hold it.
        ip("link", "add", host.hub_link, "type", "veth", "peer", "name", "eth0", "netns", host.netns,
           netns=self.hub)  # fmt: skip
        ip("link", "set", host.hub_link, "master", "br0", "up", netns=self.hub)
        ip("link", "set", "lo", "up", netns=host.netns)
        ip("addr", "add", f"{host.ip}/24", "dev", "eth0", netns=host.netns)
        ip("link", "set", "eth0", "up", netns=host.netns)
        return host

    def cut(self, name: str) -> None:
        """Take the host off the network: its processes keep running, but nothing gets in or out."""
        ip("link", "set", self.hosts[name].hub_link, "down", netns=self.hub)

    def restore(self, name: str) -> None:
        ip("link", "set", self.hosts[name].hub_link, "up", netns=self.hub)

    def is_cut(self, name: str) -> bool:
        return "state DOWN" in ip("link", "show", self.hosts[name].hub_link, netns=self.hub)

    def run_in[T](self, name: str, function: Callable[[], T], timeout: float = 120.0) -> T:
        """Call `function` in a thread of this process that joined host `name`'s namespace (setns
        is per thread), so its sockets are that host's: how the test talks HTTP to a host without
        giving the root namespace a route to the subnet."""
        if name not in self._operators:
            self._operators[name] = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"netns-{name}",
                initializer=_join_namespace, initargs=(self.hosts[name].netns,),
            )  # fmt: skip
        return self._operators[name].submit(_checked, self.hosts[name].netns, function).result(timeout)

    def destroy(self) -> None:
        for operator in self._operators.values():
            operator.shutdown(wait=False, cancel_futures=True)
        self._operators.clear()
        for host in self.hosts.values():
            namespace_delete(host.netns)
        namespace_delete(self.hub)

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc: object) -> None:
        self.destroy()


def _join_namespace(netns: str) -> None:
    fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        os.setns(fd, os.CLONE_NEWNET)
    finally:
        os.close(fd)


def _checked[T](netns: str, function: Callable[[], T]) -> T:
    # A thread that failed to join would reach the subnet through the machine's default route,
    # i.e. off this machine: refuse rather than risk it.
    if os.stat("/proc/thread-self/ns/net").st_ino != os.stat(f"/run/netns/{netns}").st_ino:
        raise RuntimeError(f"this thread is not in network namespace {netns}")
    return function()
