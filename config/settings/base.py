"""Settings read from the environment, shared by development and production.

Every entry point (manage.py, wsgi, asgi, Celery) loads `config.settings.production` unless the
development flag `PITBOSS_DEV=1` is set (`make demo`, `make test` set it); see
config/entrypoints.py. In development, with nothing else set, Pitboss runs on its embedded
default: SQLite in the project directory and Celery tasks executed eagerly in-process.
`DATABASE_URL` (PostgreSQL) and `CELERY_BROKER_URL` / `REDIS_URL` switch to the production
setup. Every variable is listed in docs/configuration.md.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    """The variable's value; unset, empty or blank all mean "use the default".

    `CELERY_BROKER_URL=` in a compose file or a `.env` is how people leave a setting out; an
    empty string is never a useful broker address, database URL or number.
    """
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


# No secret has a default outside development (PITBOSS_DEV=1).
DEVELOPMENT = env_bool("PITBOSS_DEV", False)
SECRET_KEY = env("SECRET_KEY") or (
    "pitboss-insecure-development-key-change-me" if DEVELOPMENT else ""
)
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "Set SECRET_KEY (production), or PITBOSS_DEV=1 for development "
        "(embedded SQLite, eager Celery, a development key)."
    )
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "backoffice",  # before the admin: the back office's templates come first
    "backoffice.apps.PitbossAdminConfig",  # django.contrib.admin with the Pitboss site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "django_prometheus",
    "csp",
    "auditlog",
    "axes",
    "accounts",
    "players",
    "rewards",
    "wallet",
    "safety",
    "importer",
    "webhooks",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.observability.RequestContextMiddleware",
    "config.api.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.api.middleware.JsonBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.audit.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.csp.CSPMiddleware",  # django-csp's, the header built once (config/csp.py)
    "config.api.middleware.QueryNulMiddleware",  # below the security headers: its 400 gets them
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # last, as django-axes asks: it turns a locked-out login attempt into the lockout page
    "axes.middleware.AxesMiddleware",
]

# Requests under /api/ go through a shorter chain (config/handlers.py, ADR 0033): MIDDLEWARE
# in the same order without the entries that do nothing for an API request. Every entry of
# MIDDLEWARE is in API_MIDDLEWARE or in API_MIDDLEWARE_SKIPPED with its reason
# (tests/test_api_middleware.py fails otherwise): decide for the API when adding one.
API_MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.observability.RequestContextMiddleware",
    "config.api.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",  # SessionAuthentication (back office)
    "django.middleware.common.CommonMiddleware",
    "config.api.middleware.JsonBodyLimitMiddleware",
    # DRF checks CSRF itself for a session, but this one sets the CSRF cookie when a token was
    # asked for (the API docs' script) or the cookie sent was malformed: kept, for the cookies
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.audit.AuditActorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.csp.CSPMiddleware",
    "config.api.middleware.QueryNulMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
API_MIDDLEWARE_SKIPPED = {
    "whitenoise.middleware.WhiteNoiseMiddleware": "serves STATIC_URL (/static/) only",
    "django.contrib.messages.middleware.MessageMiddleware": "no API view adds or shows a message",
    "axes.middleware.AxesMiddleware": "answers a locked-out authenticate(); the API never calls it",
}

# django-axes checks every login against its lockout before the password is (docs/back-office-
# security.md); the API's token authentication never calls authenticate() and is not affected.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'pitboss.sqlite3'}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the eager Celery path and the dev server share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # A persistent connection is checked before reuse (after a failover or a killed backend the
    # next request reconnects instead of failing), and no statement or open transaction can hold
    # locks forever: web processes want short limits, batch workers longer ones (docs).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c statement_timeout={int(env('DB_STATEMENT_TIMEOUT_MS', '120000'))} "
        "-c idle_in_transaction_session_timeout="
        f"{int(env('DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', '60000'))}"
    )
# A read replica for analytics reads (config/databases.py, docs/scaling.md).
if env("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **dj_database_url.parse(env("DATABASE_REPLICA_URL"), conn_max_age=60),
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Staff sign-in and sessions (docs/back-office-security.md) ------------------------------
# Lockout after AXES_FAILURE_LIMIT failed logins for the same username from the same address,
# for AXES_COOLOFF_TIME; attempts are kept in the database (visible in the admin, read-only),
# so every process sees them and a restart forgets nothing.
AXES_FAILURE_LIMIT = int(env("PITBOSS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("PITBOSS_LOGIN_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# the client as the API sees it: REMOTE_ADDR, or behind PITBOSS_NUM_PROXIES their X-Forwarded-For
AXES_CLIENT_IP_CALLABLE = "accounts.authentication.client_address"
# Idle staff are signed out: the session lasts PITBOSS_SESSION_IDLE_MINUTES after the last
# request (every request renews it), and ends with the browser.
SESSION_COOKIE_AGE = int(env("PITBOSS_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-import-export's admin import needs the model's add permission (operators and admins).
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# --- Audit (django-auditlog, ADR 0016, docs/back-office-security.md) ----------------------
# Every change to these configuration models is logged with the staff user, time and the
# fields' before/after; staff money actions are logged by their services (config/audit.py).
# Hot, append-only tables (activity, ledger, accounts, metrics) are not tracked.
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    "rewards.Rule",
    "rewards.JurisdictionLimit",
    "rewards.CustomSegment",
    "players.SegmentPolicy",
    "players.VipThreshold",
    "players.Currency",
    "players.ExchangeRate",
    "safety.SafetyPolicy",
    "safety.SignalWeight",
    "safety.HouseEdge",
    "wallet.BalancePolicy",
    {"model": "wallet.Aggregator", "exclude_fields": ["token_hash"]},
    {"model": "webhooks.WebhookEndpoint", "exclude_fields": ["secret", "previous_secret"]},
    "importer.ImportTemplate",
    "importer.ImportLookup",
    "django_celery_beat.PeriodicTask",
    "django_celery_beat.CrontabSchedule",
    {"model": "auth.Group", "m2m_fields": {"permissions"}},
    {
        "model": "auth.User",
        "m2m_fields": {"groups", "user_permissions"},
        "exclude_fields": ["last_login"],
        "mask_fields": ["password"],
    },
)
AUDITLOG_STORE_JSON_CHANGES = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves static files from gunicorn; without collectstatic it finds them in the apps.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "media/"

# Request bodies: the events endpoint takes at most 1,000 events; anything larger is refused
# with 413 before it is parsed. Uploads (imports) stream to disk instead.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("DATA_UPLOAD_MAX_MEMORY_SIZE", str(5 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL) or None
CELERY_TASK_ALWAYS_EAGER = env_bool(
    "CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL.startswith("memory://")
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands a task a worker took but never acknowledged (the worker was killed: acks_late)
# to another worker after this many seconds. It must exceed the longest task, or a slow chunk
# is delivered twice (harmless - chunks claim themselves - but wasted). docs/operations.md
_VISIBILITY_TIMEOUT = int(env("CELERY_VISIBILITY_TIMEOUT", "3600"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _VISIBILITY_TIMEOUT,
    # Workers look for such abandoned tasks every `interval` seconds (kombu's default sweeps
    # every 10 × 10 s, which would add up to 100 s to a killed worker's chunk).
    "unacked_restore_interval": max(1, min(10, _VISIBILITY_TIMEOUT // 4)),
    "unacked_restore_throttle": 1,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.RolePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
    # Per API account (its tokens) and, without a valid token, per client address (counted by
    # accounts/authentication.py before the refusal); in the shared cache (Redis in
    # production: one round trip per request, config/api/throttling.py). NUM_PROXIES: trusted
    # proxies in front (their X-Forwarded-For is believed).
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.AccountRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("PITBOSS_THROTTLE_ACCOUNT", "2000/s"),
        "anon": env("PITBOSS_THROTTLE_ANONYMOUS", "60/min"),
    },
    "NUM_PROXIES": int(env("PITBOSS_NUM_PROXIES")) if env("PITBOSS_NUM_PROXIES") else None,
}

# The shared cache: API throttling counters and the auth generation (accounts/authentication.py)
# live in Redis when there is one, so that every process sees them; otherwise in memory.
CACHES = {
    "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Installations (or test processes) sharing one Redis keep their keys apart.
CACHES["default"]["KEY_PREFIX"] = env("PITBOSS_CACHE_PREFIX")
SPECTACULAR_SETTINGS = {
    "TITLE": "Pitboss API",
    "DESCRIPTION": "Player rewards and bonus engine: events, players, wallet, rules, imports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from the package, not a CDN: the docs work on closed networks.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # every operation's error answers, in the one error shape (config/api/schema.py)
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.error_responses",
    ],
}

# Content Security Policy (django-csp): only this origin's scripts run; the admin and the API
# docs (Swagger UI from the sidecar package, its script served separately) need nothing else.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Domain settings ----------------------------------------------------------------------
PITBOSS = {
    # Figures that add up many players are converted to this currency.
    "REPORTING_CURRENCY": env("PITBOSS_REPORTING_CURRENCY", "EUR"),
    # Calendar days (active days, days since …) are counted in this time zone.
    "REPORTING_TIME_ZONE": env("PITBOSS_REPORTING_TIME_ZONE", "UTC"),
    # An incoming amount above this is refused as absurd, whatever the currency.
    "MAX_AMOUNT": Decimal(env("PITBOSS_MAX_AMOUNT", "100000000")),
    "MAX_EVENTS_PER_REQUEST": 1000,
    # An API token's user and roles are kept per process this long (config/api/authentication.py)
    "AUTH_CACHE_SECONDS": float(env("PITBOSS_AUTH_CACHE_SECONDS", "10")),
    # A chunked (length-less) upload is spooled to disk up to this size (config/api/middleware.py)
    "MAX_UPLOAD_BYTES": int(env("PITBOSS_MAX_UPLOAD_BYTES", str(1024 * 1024 * 1024))),
    # Webhook endpoints on loopback/private addresses and plain http (tests, local receivers).
    "WEBHOOKS_ALLOW_LOCAL": env_bool("PITBOSS_WEBHOOKS_ALLOW_LOCAL", False),
    # Bearer token Prometheus sends for /metrics; without one, only loopback may scrape.
    "METRICS_TOKEN": env("PITBOSS_METRICS_TOKEN"),
    # OTLP/HTTP endpoint for traces (config/tracing.py); OTEL_EXPORTER_OTLP_ENDPOINT also works.
    "OTEL_ENDPOINT": env("PITBOSS_OTEL_ENDPOINT"),
    # Reports that add up many players read from here (config/databases.py).
    "ANALYTICS_DATABASE": "replica" if env("DATABASE_REPLICA_URL") else "default",
    # Imports: how a date like 03/04/2026 reads when nothing in its column settles it
    # ("DMY" or "MDY"; empty: such a column is refused). docs/importing.md
    "DATE_ORDER": env("PITBOSS_DATE_ORDER"),
    # Imports: uploads over this many bytes are refused while they stream (413).
    "IMPORT_MAX_UPLOAD_BYTES": int(env("PITBOSS_IMPORT_MAX_UPLOAD_BYTES", str(200 << 20))),
    # Imports: a worker reading a file stops (the job fails) past this address space; 0: none.
    "IMPORT_MEMORY_LIMIT_MB": int(env("PITBOSS_IMPORT_MEMORY_LIMIT_MB", "4096")),
    # Imports: how long an upload waits for a Celery worker to read a workbook's sheet (the
    # web process never parses one); past it the upload is answered 503. docs/importing.md
    "IMPORT_SHEET_TIMEOUT_SECONDS": int(env("PITBOSS_IMPORT_SHEET_TIMEOUT_SECONDS", "120")),
    # Batch jobs and rule runs: players per chunk (one task, one transaction). ADR 0018
    "BATCH_CHUNK_SIZE": int(env("PITBOSS_BATCH_CHUNK_SIZE", "5000")),
}

# --- Logging (structlog renders JSON lines in production, readable lines in development) ---
LOG_LEVEL = env("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "config.logging.formatter", "json": not DEBUG},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
