"""Which settings an entry point loads when DJANGO_SETTINGS_MODULE is not set.

Production is the default for manage.py, wsgi, asgi and Celery: a deployment that forgets a
variable fails at start with a clear message instead of running on development defaults.
`PITBOSS_DEV=1` (set by `make demo`, `make run`, `make test`) selects development.
"""

import os

DEVELOPMENT_FLAG = "PITBOSS_DEV"


def settings_module_default() -> str:
    flag = os.environ.get(DEVELOPMENT_FLAG, "").strip().lower()
    if flag in {"1", "true", "yes", "on"}:
        return "config.settings.development"
    return "config.settings.production"


def settings_module_set_default() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module_default())
