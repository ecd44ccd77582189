"""Settings, every one from the environment (django-environ); see .env.example.

With nothing set we serve ``make run``: DEBUG on, a SQLite file, 127.0.0.1, a filesystem
broker. With ``DJANGO_DEBUG=False`` a secret key is required and the production defaults are
strict (HTTPS cookies, HSTS), so ``manage.py check --deploy`` passes.
"""

import datetime as _dt
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is False.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "simple_history",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "csp",
    "django.forms",  # the form renderer below finds Django's widget templates here
    "crm",
    "crm.robots",
    "clients",
    "complaints",
    "surveys",
    "assessments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The request id every history row and log line carries (crm/request_id.py).
    "crm.request_id.RequestIdMiddleware",
    # Content-Security-Policy (django-csp) and Permissions-Policy on every response.
    "csp.middleware.CSPMiddleware",
    "crm.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise (static files keep their cache lifetimes): no-store on everything else.
    "crm.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the input: a NUL in it answers 400, not a database error (500).
    "crm.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle and absolute session limits; ends the sessions of deactivated users (crm/security.py).
    "crm.security.SessionLimitsMiddleware",
    # The signed-in person's own language (their setting) for the pages (R113).
    "crm.outbox.language.UserLanguageMiddleware",
    # The project's 404/403 pages for pages, in development too; the no-access page (crm/error_pages.py).
    "crm.error_pages.ErrorPagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that a locked-out login answers with our page (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
AUTH_USER_MODEL = "crm.User"

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
                "django.template.context_processors.i18n",
                "crm.context_processors.shell",
            ],
        },
    }
]

# Widgets render through the project's templates, so that templates/django/forms/ can say
# 请选择 where Django would show "---------" for an empty choice.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Database: PostgreSQL in production and CI; a SQLite file is the embedded default.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file; without these they hit "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # The covering search index (clients) is a plain index on SQLite; that is all it needs there.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "crm.auth.CrmModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after the
# login, whichever comes first (crm.security.SessionLimitsMiddleware); the cookie and the stored
# session expire with the idle limit too.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_MAX_HOURS = env.float("SESSION_MAX_HOURS", default=12)
if SESSION_IDLE_MINUTES < 1 or SESSION_MAX_HOURS <= 0:
    raise ImproperlyConfigured("SESSION_IDLE_MINUTES and SESSION_MAX_HOURS must be positive.")
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# API tokens (POST /api/auth/token/) are refused this many days after they were issued.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)

# django-axes: lock a username on one IP, so a shared office IP cannot lock out a branch.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The page above for people, JSON 429 for the API's token endpoint.
AXES_LOCKOUT_CALLABLE = "crm.security.lockout_response"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_VERBOSE = False

# guardian: no anonymous user row; object permissions on Branch through direct FK tables.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Attachments of needs, visits and complaints (R61-R64), kept through this storage only
    # (crm/attachments): files under MEDIA_ROOT/attachments/ by default; a shared object store
    # (e.g. django-storages' S3 backend, with its options as JSON) where several web servers
    # serve one archive. Never served from a URL of its own: downloads go through the views.
    "attachments": {
        "BACKEND": env.str(
            "CRM_ATTACHMENT_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json("CRM_ATTACHMENT_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# The storage (a key of STORAGES) attachments are kept in, and the largest attachment (R61).
CRM_ATTACHMENT_STORAGE = "attachments"
CRM_ATTACHMENT_MAX_MB = env.int("CRM_ATTACHMENT_MAX_MB", default=20)
if not 1 <= CRM_ATTACHMENT_MAX_MB <= 1024:
    raise ImproperlyConfigured("CRM_ATTACHMENT_MAX_MB must be between 1 and 1024.")
# No uploaded file of any form is kept past this size (crm.attachments.files.UploadLimitHandler
# drops it as it streams in): the largest that any upload may be (attachments; imports, 10 MB).
CRM_UPLOAD_LIMIT_BYTES = max(CRM_ATTACHMENT_MAX_MB, 10) * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "crm.attachments.files.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Uploaded import files are deleted this many days after the upload (the job rows stay).
IMPORT_KEEP_DAYS = env.int("IMPORT_KEEP_DAYS", default=30)

# Redis: broker and cache where REDIS_URL is set; otherwise the embedded defaults. Either way
# the cache is one that every process shares (design.md, "Time and schedules"): the web server
# and the worker must read the same figures, so never a per-process memory cache.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # While Redis is away the cache degrades to none (crm/cache.py) and short timeouts keep a
    # dead Redis from holding a page; a job that cannot be queued waits for its sweep (crm.tasks).
    CACHES = {
        "default": {
            "BACKEND": "crm.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # A message taken by a worker that dies unacknowledged (acks_late) comes back after this
    # many seconds; longer than ImportJob.STALE_AFTER, so the redelivery finds the job stopped.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
        "socket_connect_timeout": 2,
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("CRM_CACHE_DIR", default=str(BASE_DIR / "var" / "cache")),
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    }
    # Everything the filesystem broker writes stays under its own folder, the broadcast
    # folder of remote control ("control") included: kombu puts that one in the working
    # directory unless told otherwise.
    _broker_dir = Path(env.str("CELERY_FS_BROKER_DIR", default=str(BASE_DIR / "var" / "broker")))
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "crmfs://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
CELERY_TIMEZONE = TIME_ZONE
# Task modules beside the autodiscovered <app>.tasks (parts of the archive keep their own).
CELERY_IMPORTS = [
    "clients.imports.tasks",
    "clients.access.tasks",
    "clients.tracking.tasks",
    "crm.outbox.tasks",
]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# The dashboards are computed ahead of their readers by the worker after a change (issue 29).
# A reader who comes before it has finished gets the previous answer, marked with its time, when
# computing it took longer than DASHBOARD_WAIT_SECONDS ("off": every reader waits for fresh
# figures, as the tests do).
_dashboard_wait = env.str("DASHBOARD_WAIT_SECONDS", default="1.0")
DASHBOARD_WAIT_SECONDS = None if _dashboard_wait.lower() == "off" else float(_dashboard_wait)
DASHBOARD_PRECOMPUTE = env.bool("DASHBOARD_PRECOMPUTE", default=True)
# Every task's time limits, in seconds: at the soft limit the task gets SoftTimeLimitExceeded and
# ends its work in a state a person can read (an import job "failed", with why); at the hard
# limit its worker process is killed. Tasks that need longer set their own (the import, the
# 25th job's and the half-year review's parts per branch), all below the broker's visibility
# timeout, so that a message is not delivered again while its first run may still be going.
# (The prefork pool enforces them; a "solo" or "threads" worker does not.)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
if not 0 < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_TASK_SOFT_TIME_LIMIT must be positive and below CELERY_TASK_TIME_LIMIT."
    )

# E-mail: console by default, SMTP (or anything django-environ knows) from EMAIL_URL.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@example.com")
# A mail server that does not answer must not hold a worker for long (the outbox retries).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=EMAIL_CONFIG.get("EMAIL_TIMEOUT") or 10)

# The outbox (crm/outbox, R110, R115): attempts per delivery, the backoff between them (base
# x 2^(n-1), capped), the lease of a delivery being sent (above the task time limit, so a
# live send is never taken twice), and the time of the daily digest (Asia/Shanghai, HH:MM).
CRM_OUTBOX_MAX_ATTEMPTS = env.int("CRM_OUTBOX_MAX_ATTEMPTS", default=6)
CRM_OUTBOX_BACKOFF_SECONDS = env.float("CRM_OUTBOX_BACKOFF_SECONDS", default=30.0)
CRM_OUTBOX_BACKOFF_MAX_SECONDS = env.float("CRM_OUTBOX_BACKOFF_MAX_SECONDS", default=3600.0)
CRM_OUTBOX_LEASE_SECONDS = env.int("CRM_OUTBOX_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60)
CRM_DIGEST_TIME = env.str("CRM_DIGEST_TIME", default="08:00")
if not (CRM_OUTBOX_MAX_ATTEMPTS >= 1 and CRM_OUTBOX_BACKOFF_SECONDS >= 0):
    raise ImproperlyConfigured("CRM_OUTBOX_MAX_ATTEMPTS must be at least 1 and the backoff not negative.")
try:
    _dt.time.fromisoformat(CRM_DIGEST_TIME)
except ValueError as _exc:
    raise ImproperlyConfigured("CRM_DIGEST_TIME must be a time such as 08:00.") from _exc

REST_FRAMEWORK = {
    # Token first: DRF answers 401 with its WWW-Authenticate header; the pages' own calls still
    # authenticate by session, with the CSRF check.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.errors.exception_handler",
    # "token": POST /api/auth/token/ per address (crm/api/views.py TokenView).
    "DEFAULT_THROTTLE_RATES": {
        "public_answer": "30/minute",
        "anon": "60/minute",
        "token": env.str("API_TOKEN_RATE", default="20/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "集团客户关系管理系统 API",
    "DESCRIPTION": "Client archive, grading, complaints, surveys and reporting.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are for signed-in users only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The error answers (400/401/403/404/409/429) of every operation, documented once.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema.add_error_responses",
    ],
    # Choice sets that share a field name across models get stable names of their own.
    "ENUM_NAME_OVERRIDES": {
        "BranchKindEnum": "crm.models.Branch.Kind",
        "ChatRobotKindEnum": "crm.robots.models.ChatRobot.Kind",
        "ChatRobotUnitEnum": "crm.robots.models.ChatRobot.Unit",
        "NoticeKindEnum": "crm.robots.kinds.NoticeKind",
        "SuspensionKindEnum": "crm.models.Suspension.Kind",
        "LevelEnum": "clients.models.SocialValue",
        "NeedCategoryEnum": "clients.models.Need.Category",
        "NeedStatusEnum": "clients.models.Need.Status",
        "NeedRatingEnum": "clients.models.Need.Rating",
        "NeedRatingChannelEnum": "clients.models.Need.RatingChannel",
        "RatingEnum": "assessments.models.Assessment.Rating",
        "VisitChannelEnum": "clients.models.Visit.Channel",
        "AccessRequestStatusEnum": "clients.models.AccessRequest.Status",
        "ImportJobStateEnum": "clients.models.ImportJob.State",
        "ImportJobPhaseEnum": "clients.models.ImportJob.Phase",
        "ComplaintKindEnum": "complaints.models.Kind",
        "AttachmentKindEnum": "crm.attachments.files.Kind",
        "ComplaintChannelEnum": "complaints.models.Channel",
        "ComplaintCategoryEnum": "complaints.models.Category",
        "ComplaintStatusEnum": "complaints.models.Status",
        "ComplaintEventKindEnum": "complaints.models.Event.Kind",
        "RepairStatusEnum": "complaints.repairs.models.RepairStatus",
        "RepairEventKindEnum": "complaints.repairs.models.RepairEvent.Kind",
        "CampaignStatusEnum": "surveys.models.Campaign.Status",
        "SurveyStatusEnum": "surveys.models.Survey.Status",
        "SurveyChannelEnum": "surveys.models.Survey.Channel",
        "FollowUpStatusEnum": "surveys.models.FollowUp.Status",
        "NeedAnalysisReportStatusEnum": "assessments.needreports.models.NeedAnalysisReport.Status",
        "DepartmentReportStatusEnum": "assessments.deptreports.models.DepartmentReport.Status",
        "DepartmentSurveyReportStatusEnum": "assessments.deptreports.models.DepartmentSurveyReport.Status",
        "LeaderReportKindEnum": "assessments.circulars.models.LeaderReport.Kind",
        "LeaderReportStatusEnum": "assessments.circulars.models.LeaderReport.Status",
        "CircularStatusEnum": "assessments.circulars.models.Circular.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Response headers. Scripts come only from our own static files (no inline script, no on*=
# handlers); inline style attributes remain in many templates, and htmx adds its indicator
# style, so style-src allows 'unsafe-inline' (styles only). Chart.js draws on canvases.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Business settings (defaults of domain.md; the admin-editable ones live in the database).
CRM_GROUP_NAME = env.str("CRM_GROUP_NAME", default="中建联合工程集团")
CRM_SITE_URL = env.str("CRM_SITE_URL", default="http://127.0.0.1:8000")
# Group chat robots (crm/robots, R116-R120): the timeout of every call to a platform (seconds),
# each robot's budget of messages a minute (WeCom and DingTalk allow 20), and the webhook hosts
# of a private deployment of a platform, accepted besides the platforms' public ones.
CRM_ROBOT_TIMEOUT = env.float("CRM_ROBOT_TIMEOUT", default=5.0)
CRM_ROBOT_RATE_PER_MINUTE = env.int("CRM_ROBOT_RATE_PER_MINUTE", default=20)
CRM_ROBOT_EXTRA_HOSTS = env.list("CRM_ROBOT_EXTRA_HOSTS", default=[])
# R18: a key project's second return visit (due 2 months after the resolution, to confirm the
# effect) may be recorded from this many days before it is due, not earlier.
CRM_SECOND_RETURN_VISIT_WINDOW_DAYS = env.int("CRM_SECOND_RETURN_VISIT_WINDOW_DAYS", default=14)
if not 0 <= CRM_SECOND_RETURN_VISIT_WINDOW_DAYS <= 60:
    raise ImproperlyConfigured("CRM_SECOND_RETURN_VISIT_WINDOW_DAYS must be between 0 and 60.")

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure") or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is too weak for production (50+ varied characters).")

# R13: the scale-profit class of B clients (clients.grading.scale_profit_thresholds): projects
# adding up to this contract value (yuan) are "large scale"; profit at or above this share of
# it is "high profit".
CRM_SCALE_PROFIT_LARGE_CONTRACT_YUAN = env.int("CRM_SCALE_PROFIT_LARGE_CONTRACT_YUAN", default=10_000_000)
CRM_SCALE_PROFIT_HIGH_MARGIN = env.float("CRM_SCALE_PROFIT_HIGH_MARGIN", default=0.15)
if CRM_SCALE_PROFIT_LARGE_CONTRACT_YUAN <= 0 or not 0 < CRM_SCALE_PROFIT_HIGH_MARGIN < 1:
    raise ImproperlyConfigured(
        "CRM_SCALE_PROFIT_LARGE_CONTRACT_YUAN must be positive and CRM_SCALE_PROFIT_HIGH_MARGIN between 0 and 1."
    )

# Monthly reporting (R26-R28): reports are due on the 25th at this time (Asia/Shanghai), when
# the 25th job closes the period; reminders go to branches that have not submitted on these
# days of the month.
CRM_MONTHLY_DEADLINE = env.str("CRM_MONTHLY_DEADLINE", default="20:00")
if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", CRM_MONTHLY_DEADLINE):
    raise ImproperlyConfigured("CRM_MONTHLY_DEADLINE must be HH:MM, e.g. 20:00.")
CRM_MONTHLY_REMINDER_DAYS = tuple(env.list("CRM_MONTHLY_REMINDER_DAYS", cast=int, default=[20, 24]))
if not all(1 <= d <= 25 for d in CRM_MONTHLY_REMINDER_DAYS):
    raise ImproperlyConfigured("CRM_MONTHLY_REMINDER_DAYS must be days 1-25.")

# The half-year client analysis reports (R31) are due by the end of these days (MM-DD) for the
# first and second half; the work summary (R33) within this many days of the rating; the one
# month of a poor rating's archive suspension; the size of the accuracy spot check (R32.5).
CRM_ANALYSIS_DUE = tuple(env.list("CRM_ANALYSIS_DUE", default=["06-01", "12-31"]))
if len(CRM_ANALYSIS_DUE) != 2 or not all(re.fullmatch(r"(0\d|1[0-2])-[0-3]\d", d) for d in CRM_ANALYSIS_DUE):
    raise ImproperlyConfigured("CRM_ANALYSIS_DUE must be two MM-DD days, e.g. 06-01,12-31.")
CRM_WORK_SUMMARY_DAYS = env.int("CRM_WORK_SUMMARY_DAYS", default=7)
CRM_SPOT_CHECK_SIZE = env.int("CRM_SPOT_CHECK_SIZE", default=8)
# The standard of client-count growth over a half year (R32.1), unless group marketing sets
# another for the round.
CRM_CLIENT_GROWTH_STANDARD = env.float("CRM_CLIENT_GROWTH_STANDARD", default=0.03)
# The first half year whose client analysis report is owed (R31): earlier ones predate the review.
CRM_REVIEW_START = env.str("CRM_REVIEW_START", default="2026H1")

# -- Operations (issue 29): health, metrics, logs, error reports, object store ------------------
# Kept in one block. The health endpoints and /metrics are answered early (crm/health.py), on
# plain HTTP too: the load balancer and Prometheus call a server by its address.
MIDDLEWARE.insert(
    MIDDLEWARE.index("crm.request_id.RequestIdMiddleware") + 1, "crm.health.OperatorEndpointsMiddleware"
)
SECURE_REDIRECT_EXEMPT = [r"^health/(live|ready)/?$", r"^metrics/?$"]
# Readiness calls the worker's heartbeat (every 2 minutes) and beat's last job stale past these.
HEALTH_WORKER_STALE_SECONDS = env.int("HEALTH_WORKER_STALE_SECONDS", default=600)
HEALTH_BEAT_STALE_SECONDS = env.int("HEALTH_BEAT_STALE_SECONDS", default=600)
# /metrics (crm/metrics.py) for a bearer of this token, or a scraper at one of these addresses
# or networks (e.g. 10.0.0.0/8); with neither set there is no /metrics. Requests are timed by
# the first middleware.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
MIDDLEWARE.insert(0, "crm.metrics.RequestMetricsMiddleware")
try:
    import ipaddress as _ipaddress

    [_ipaddress.ip_network(_net, strict=False) for _net in METRICS_ALLOWED_IPS]
except ValueError as _bad:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {_bad}") from None
# Logs: LOG_FORMAT=json writes JSON lines with the request or job id, the user id and the
# branch, never client data (crm/logs.py); "text" (the default) stays as `make run` shows it.
# LOG_REQUESTS adds one line per request (its route's name, status, time), on by default in JSON.
LOG_FORMAT = env.str("LOG_FORMAT", default="") or "text"
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json.")
LOG_REQUESTS = env.bool("LOG_REQUESTS", default=LOG_FORMAT == "json")
LOGGING = {
    **LOGGING,
    "filters": {"context": {"()": "crm.logs.ContextFilter"}},
    "formatters": {"json": {"()": "crm.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
}
# The worker logs through the same configuration instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "crm.logs.LogContextMiddleware",
)
# A job that cannot be queued (the broker is away) says so on the page that asked (crm.tasks).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "crm.tasks.EnqueueRequestMiddleware",
)
# Error reports to Sentry when SENTRY_DSN is set: no personal data, no request bodies.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    from crm.logs import sentry_options

    sentry_sdk.init(
        **sentry_options(
            SENTRY_DSN,
            environment=env.str("SENTRY_ENVIRONMENT", default=""),
            traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        )
    )
# Uploaded files (imports, attachments) in an S3-compatible object store when CRM_S3_BUCKET is
# set (django-storages): every web server and worker reads the same files, with no shared disk.
# Keys are the names the files have on disk (imports/..., attachments/...). Otherwise the local
# disk under DJANGO_MEDIA_ROOT, as before.
CRM_S3_BUCKET = env.str("CRM_S3_BUCKET", default="")
if CRM_S3_BUCKET:
    _s3_endpoint = env.str("CRM_S3_ENDPOINT_URL", default="")
    _s3_options = {
        "bucket_name": CRM_S3_BUCKET,
        "endpoint_url": _s3_endpoint or None,
        "access_key": env.str("CRM_S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("CRM_S3_SECRET_ACCESS_KEY", default="") or None,
        "region_name": env.str("CRM_S3_REGION", default="") or None,
        # MinIO and most self-hosted stores want path-style addresses.
        "addressing_style": "path" if _s3_endpoint else None,
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
    }
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options}
    if STORAGES["attachments"]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
        STORAGES["attachments"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options}
