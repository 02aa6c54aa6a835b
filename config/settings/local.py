"""Local development, the demo and the tests (manage.py's default): the base settings, with the public
development secrets (config/dev_secrets.py) wherever the environment sets none.

They go into the environment before the base settings read it, so processes started from here (a
bulk parse child, a test's worker) see the same values. Never serve these settings to the internet:
anyone who reads this repository can forge this instance's webhooks and decrypt its stored tokens.
"""

from __future__ import annotations

import os

from config.dev_secrets import DEVELOPMENT_SECRETS

for _name, _value in DEVELOPMENT_SECRETS.items():
    if not os.environ.get(_name) and not os.environ.get(f"{_name}_FILE"):
        os.environ[_name] = _value

from config.settings.base import *  # noqa: E402, F403
