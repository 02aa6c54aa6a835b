"""Regenerate docs/dashboard.png: the demo's dashboard during its initial sync, live count moving.

    .venv/bin/python docs/screenshot_dashboard.py [--orders 50000] [--out docs/dashboard.png]

Runs `bin/demo` as a newcomer does (its own var dir in a temporary directory, free ports), logs in
with the login it prints in headless Chromium (the system's, driven by Playwright, as tests/browser
do; SHOPSYNC_CHROMIUM overrides the path), and takes the screenshot once the panel and the nav widget
both show a write count part-way ("Synced 1,234 / 50,000 orders", 0 < synced < total) and the Records
card has followed it; failing that before the sync ends, the last view of Shopify's export being
prepared ("Shopify prepared 23,000 / 50,000 orders"). Ctrl-C (SIGINT to its process group) stops the demo.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SHOPSYNC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SYNCED_RE = re.compile(r"Synced ([\d,]+) / ([\d,]+) (\w+)")
ORDERS_RE = re.compile(r"Orders\s+([\d,]+)")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_demo(var_dir: Path, orders: int) -> tuple[subprocess.Popen, list[str]]:
    web_port, sim_port = free_ports(2)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    env.update(SHOPSYNC_VAR_DIR=str(var_dir), WEB_PORT=str(web_port), SIM_PORT=str(sim_port),
               DEMO_ORDERS=str(orders))  # fmt: skip
    process = subprocess.Popen(
        [str(ROOT / "bin" / "demo")], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return process, lines


def wait_for(lines: list[str], pattern: str, timeout: float) -> re.Match:
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(lines):
            if match := regex.search(line):
                return match
        time.sleep(0.3)
    raise SystemExit(f"bin/demo printed no {pattern!r} within {timeout} s:\n" + "\n".join(lines[-60:]))


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def part_way(panel_text: str) -> bool:
    counts = [(_number(a), _number(b)) for a, b, _ in SYNCED_RE.findall(panel_text)]
    return any(0 < synced < total for synced, total in counts)


def records_follow(panel_text: str, records_text: str) -> bool:
    """The Records card shows at least the orders the panel says were written."""
    written = [_number(a) for a, _, resource in SYNCED_RE.findall(panel_text) if resource == "orders"]
    shown = ORDERS_RE.search(records_text)
    return bool(written and shown and _number(shown.group(1)) >= written[0] > 0)


def screenshot(app_url: str, username: str, password: str, out: Path, timeout: float) -> str:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(viewport={"width": 1280, "height": 760}).new_page()
        page.goto(f"{app_url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{app_url}/")  # the first visit starts the initial sync
        panel = page.locator("#sync-progress")
        deadline = time.monotonic() + timeout
        exporting_shot = False
        while time.monotonic() < deadline:
            state, text = panel.get_attribute("data-state"), panel.inner_text()
            # The panel and the nav widget poll on their own 2 s rhythms: both part-way, or keep looking.
            if (
                state == "running"
                and part_way(text)
                and part_way(page.locator("#sync-indicator").inner_text())
                and records_follow(text, page.locator("#records-card").inner_text())
            ):
                page.screenshot(path=str(out))
                return text
            if state == "running" and "Shopify prepared" in text:
                page.screenshot(path=str(out))  # kept if no count part-way is caught
                exporting_shot = True
            elif state != "running" and exporting_shot:
                return "(the export being prepared; no write count was caught part-way)"
            time.sleep(0.2)
        raise SystemExit(f"no running sync seen on the dashboard within {timeout} s")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shopsync-screenshot-") as tmp:
        process, lines = start_demo(Path(tmp) / "var", args.orders)
        try:
            app_url = wait_for(lines, r"open (http://\S+?)/?\s*$", 600).group(1)
            username, password = wait_for(lines, r"login:\s+(\S+) / (\S+)\s*$", 5).groups()
            try:
                shown = screenshot(app_url, username, password, args.out, timeout=600)
            except SystemExit as exc:
                raise SystemExit(f"{exc}\nbin/demo's last lines:\n" + "\n".join(lines[-60:])) from None
        finally:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=30)
    print(f"wrote {args.out}:\n{shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
