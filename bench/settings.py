"""Settings for the API benchmark's gunicorn: the product's settings plus bench-only URLs.

Only `ROOT_URLCONF` differs, so that the baseline endpoint (bench/urls.py) never ships in the
product's URL map.
"""

from config.settings.development import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
