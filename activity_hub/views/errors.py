"""Error pages, CSRF failures in words, and security headers on every response."""

from flask import flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from . import is_htmx

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)



def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        message = "This form expired or was sent from another site. Reload the page and try again."
        if is_htmx():
            return render_template("errors/_message.html", message=message), 403
        flash(message, "error")
        return redirect(request.referrer if _same_origin(request.referrer) else url_for("auth.login"))

    @app.errorhandler(404)
    def not_found(_exc):
        return _error_page(404, "Page not found", "There is nothing here, or it belongs to someone else.")

    @app.errorhandler(405)
    def not_allowed(_exc):
        return _error_page(405, "Not allowed", "That page cannot be used like this.")

    @app.errorhandler(413)
    def too_large(_exc):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return _error_page(413, "File too large", f"Uploads can be at most {limit} MB. Split the file and try again.")

    @app.errorhandler(500)
    def server_error(_exc):
        return _error_page(500, "Something went wrong", "The error was logged. Please try again in a moment.")

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def _same_origin(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


def _error_page(code: int, title: str, message: str):
    if is_htmx():
        return render_template("errors/_message.html", message=message), code
    return render_template("errors/page.html", code=code, title=title, message=message), code
