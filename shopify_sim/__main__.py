from __future__ import annotations

from shopify_sim.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
