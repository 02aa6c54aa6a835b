"""Fresh Pythons for the settings tests, forked from one that has already imported the libraries.

Each case of tests/config/test_settings_production.py needs a process that has never read the
project's settings (they are read once per process). Starting `python` for each of them cost about
0.4 CPU s for a start refused at the settings and about 2 CPU s for one that loads them, nearly all of
it importing Django, Celery and their dependencies again. Here one Python (the "zygote", started per
module) imports those libraries once, and forks for each case: the child takes the case's
environment (the whole of it: `os.environ` is replaced), its argv and its working directory, sends its
output to files, and runs the case as `python -c CODE`, `python SCRIPT` or `python -m MODULE` would,
with the same exit status (an uncaught exception prints its traceback and exits 1; SystemExit's code
is the status). Nothing of the project (`config`, the apps) is imported before the fork, so every
case reads the settings and the environment afresh. Variables read when Python itself starts
(PYTHONPATH, PYTHONHASHSEED...) are the zygote's; the cases set none of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ZYGOTE = r"""
import json, os, runpy, sys, traceback

# Libraries only: importing them reads no settings and no project module.
import celery.bin.celery, cryptography.fernet, dj_database_url, django, django.core.asgi
import django.core.management, django.core.wsgi, kombu, psycopg, redis

def run(case):
    os.environ.clear()
    os.environ.update(case["env"])
    os.chdir(case["cwd"])
    sys.argv = list(case["argv"])
    kind, target = case["kind"], case["target"]
    try:
        if kind == "code":
            exec(compile(target, "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        elif kind == "script":
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
        else:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        return 0
    except SystemExit as stop:
        if stop.code is None:
            return 0
        if isinstance(stop.code, int):
            return stop.code
        print(stop.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1

for line in sys.stdin:
    case = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        out = os.open(case["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(case["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(err, 2)
        status = run(case)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    _, wait_status = os.waitpid(pid, 0)
    sys.stdout.write(json.dumps(os.waitstatus_to_exitcode(wait_status)) + "\n")
    sys.stdout.flush()
"""


class ForkedPython:
    """`run(argv, env, cwd)` as `subprocess.run(argv, env=env, cwd=cwd, capture_output=True,
    text=True)` would, for argv `[python, "-c", CODE]`, `[python, SCRIPT, ...]` or
    `[python, "-m", MODULE, ...]`."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.files = tempfile.TemporaryDirectory(prefix="forked-python-")
        self.count = 0
        self.zygote = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run(self, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
        assert argv[0] == sys.executable, argv
        if argv[1] == "-c":
            kind, target, args = "code", argv[2], ["-c", *argv[3:]]
        elif argv[1] == "-m":
            kind, target, args = "module", argv[2], [argv[2], *argv[3:]]
        else:
            kind, target, args = "script", argv[1], argv[1:]
        self.count += 1
        stdout, stderr = (Path(self.files.name) / f"{self.count}.{name}" for name in ("out", "err"))
        case = {"kind": kind, "target": target, "argv": args, "env": env, "cwd": str(self.cwd),
                "stdout": str(stdout), "stderr": str(stderr)}  # fmt: skip
        assert self.zygote.stdin is not None and self.zygote.stdout is not None
        self.zygote.stdin.write(json.dumps(case) + "\n")
        self.zygote.stdin.flush()
        line = self.zygote.stdout.readline()
        if not line:
            raise RuntimeError(f"the forking Python ended (exit {self.zygote.wait(30)})")
        return subprocess.CompletedProcess(argv, json.loads(line), stdout.read_text(), stderr.read_text())

    def close(self) -> None:
        if self.zygote.stdin is not None:
            self.zygote.stdin.close()
        self.zygote.wait(30)
        self.files.cleanup()
