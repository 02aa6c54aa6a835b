"""Start N `bench.budget.worker` processes on one simulated shop at the same instant and sum up what
they saw: the fleet test and the benchmark share it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Each worker imports Django before the common start: give them this long.
START_DELAY_SECONDS = 4.0


@dataclass(frozen=True)
class FleetResult:
    workers: list[dict[str, Any]]
    bucket_at_start: float
    restore_rate: float

    @property
    def answers(self) -> int:
        return sum(worker["answers"] for worker in self.workers)

    @property
    def throttled(self) -> int:
        return sum(worker["throttled"] for worker in self.workers)

    @property
    def points(self) -> float:
        return sum(worker["points"] for worker in self.workers)

    @property
    def wall_seconds(self) -> float:
        return max(w["finished"] for w in self.workers) - min(w["started"] for w in self.workers)

    @property
    def utilisation(self) -> float:
        """Points spent over what the shop could give in the run: the bucket at the start plus the
        restore rate for the run's length."""
        return self.points / (self.bucket_at_start + self.restore_rate * self.wall_seconds)

    def summary(self) -> dict[str, Any]:
        return {
            "processes": len(self.workers),
            "answers": self.answers,
            "throttled": self.throttled,
            "throttled_share": round(self.throttled / max(1, self.answers), 3),
            "points": self.points,
            "wall_seconds": round(self.wall_seconds, 2),
            "points_per_second": round(self.points / self.wall_seconds, 1),
            "utilisation": round(self.utilisation, 3),
            "paced_waits": sum(w["paced_waits"] for w in self.workers),
            "answers_per_process": sorted(w["answers"] for w in self.workers),
        }


def fleet_run(
    *,
    api_base_url: str,
    domain: str,
    token: str,
    processes: int,
    seconds: float,
    budget_redis_url: str,
    bucket_at_start: float,
    restore_rate: float,
    first: int = 100,
    settings_module: str = "config.settings.local",
) -> FleetResult:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "SHOPIFY_BUDGET_REDIS_URL": budget_redis_url,
        "PYTHONPATH": str(ROOT),
    }
    start_at = time.time() + START_DELAY_SECONDS
    command = [sys.executable, "-m", "bench.budget.worker", "--api-base-url", api_base_url, "--domain", domain,
               "--token", token, "--seconds", str(seconds), "--first", str(first), "--start-at", str(start_at)]  # fmt: skip
    children = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    workers = []
    for child in children:
        out, err = child.communicate(timeout=seconds + START_DELAY_SECONDS + 120)
        if child.returncode != 0:
            raise RuntimeError(f"fleet worker failed ({child.returncode}): {err[-2000:]}")
        workers.append(json.loads(out.strip().splitlines()[-1]))
    return FleetResult(workers=workers, bucket_at_start=bucket_at_start, restore_rate=restore_rate)
