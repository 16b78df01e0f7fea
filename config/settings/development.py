"""Development settings: the development flag on (a development secret key; with nothing else
set, the embedded SQLite database and eager Celery). Entry points load this module when
`PITBOSS_DEV=1` (config/entrypoints.py)."""

import os

os.environ.setdefault("PITBOSS_DEV", "1")

from config.settings.base import *  # noqa: E402, F403
