"""Plan Tracker: a government plan carried from document to done."""
from __future__ import annotations

import gc
import os

from flask import Flask

from tracker import db


def create_app(config=None, *, database: db.Database | None = None) -> Flask:
    """Build the application: extensions, blueprints, commands, error handlers."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_relative_config=False)
    app.config.from_object(config or _default_config())
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    db.init_app(app, database)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    register_errorhandlers(app)
    return app


def settle_heap() -> None:
    """Put what start-up built (the app, its routes and templates, SQLAlchemy's mappers, the imported modules)
    out of the garbage collector's reach. Otherwise every full collection walks all of it again: about a
    tenth of a plan import or of a reminder wave. Called by the long-running entry points once the app is
    built (wsgi.py, `tracker scheduler`, the benchmark), never by tests that build many apps."""
    gc.collect()
    gc.freeze()


def _default_config():
    import config
    if os.environ.get("TRACKER_ENV") == "production":
        return config.ProductionConfig
    return config.Config


def register_extensions(app: Flask) -> None:
    from tracker.accounts import web as accounts_web
    from tracker.extensions import csrf
    from tracker import web

    csrf.init_app(app)
    web.init_app(app)
    accounts_web.init_app(app)


def register_blueprints(app: Flask) -> None:
    from tracker.accounts.admin_routes import bp as admin_bp
    from tracker.accounts.routes import bp as accounts_bp
    from tracker.agencies.routes import bp as agencies_bp
    from tracker.api.routes import bp as api_bp
    from tracker.audit.routes import bp as audit_bp
    from tracker.briefings.routes import bp as briefings_bp
    from tracker.evaluations.routes import bp as evaluations_bp
    from tracker.reminders.routes import bp as reminders_bp
    from tracker.reporting.routes import bp as reporting_bp
    from tracker.tasks.routes import bp as tasks_bp

    for blueprint in (accounts_bp, admin_bp, audit_bp, agencies_bp, tasks_bp, reporting_bp, reminders_bp,
                      evaluations_bp, briefings_bp, api_bp):
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    from tracker.cli import register
    register(app)


def register_errorhandlers(app: Flask) -> None:
    from tracker.web import register_errorhandlers as register_handlers
    register_handlers(app)
