"""Settings, each from a TRACKER_* environment variable with a safe default for one machine."""
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _env(name: str, default=None):
    return os.environ.get(f"TRACKER_{name}", default)


def _instance_dir() -> Path:
    path = Path(_env("INSTANCE_DIR", ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(instance: Path) -> str:
    """Return the configured key, or one generated once and kept in the instance folder.

    A fixed default key would let anyone forge sessions; a key regenerated per start
    would log everybody out on restart.
    """
    configured = _env("SECRET_KEY")
    if configured:
        return configured
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class Config:
    INSTANCE_DIR = _instance_dir()
    DATABASE_URL = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'tracker.sqlite3'}")
    SECRET_KEY = _secret_key(INSTANCE_DIR)
    STORAGE_DIR = Path(_env("STORAGE_DIR", INSTANCE_DIR / "storage"))
    MAILBOX_DIR = Path(_env("MAILBOX_DIR", INSTANCE_DIR / "mailbox"))
    SMTP_URL = _env("SMTP_URL", "")
    SMTP_TIMEOUT_SECONDS = float(_env("SMTP_TIMEOUT_SECONDS", "10"))
    MAIL_SENDER = _env("MAIL_SENDER", "市政府办公室督查科 <duchake@tracker.local>")
    BASE_URL = _env("BASE_URL", "http://127.0.0.1:5000")
    MAX_CONTENT_LENGTH = int(_env("MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
    #: one evidence file at most (unset: the request limit less a megabyte for the form around it)
    ATTACHMENT_MAX_BYTES = int(_env("ATTACHMENT_MAX_BYTES", "0")) or None
    PAGE_SIZE = int(_env("PAGE_SIZE", "50"))
    #: the issuing office printed in red at the head of every 督查通报
    BRIEFING_ISSUER = _env("BRIEFING_ISSUER", "呼和浩特市人民政府办公室")
    #: the seeded units directory, read when a plan names units it does not know yet
    UNITS_DIRECTORY = Path(_env("UNITS_DIRECTORY", ROOT / "seed" / "hohhot-units.json"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env("COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    #: reverse proxies in front of the app (the load balancer): their X-Forwarded-For is trusted
    PROXY_COUNT = int(_env("PROXY_COUNT", "0"))
    IDLE_TIMEOUT_MINUTES = int(_env("IDLE_TIMEOUT_MINUTES", "30"))
    ABSOLUTE_TIMEOUT_HOURS = int(_env("ABSOLUTE_TIMEOUT_HOURS", "12"))
    WTF_CSRF_TIME_LIMIT = None
    HSTS = False
    TESTING = False


class TestConfig(Config):
    TESTING = True
    DATABASE_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "")
    SECRET_KEY = "test-secret-key-not-for-production"
    PAGE_SIZE = 20
    #: CSRF is proven by tests that turn it back on; the others post plain forms
    WTF_CSRF_ENABLED = False


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    HSTS = True
