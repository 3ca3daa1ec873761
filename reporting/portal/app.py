"""The portal's ASGI application (Starlette, Jinja2 pages, no JavaScript needed): packs and builds, runs and
deliveries (resend a delivered message), jobs (pause, resume, send now, resend, test run to the test mailbox),
the approval queue, sign-in, and the read-only JSON API.

The portal and the daemon are separate processes sharing the project's database. Every action is recorded
there (`portal_actions`); pause and resume are rows the scheduler reads before a scheduled run; "send now"
and "resend" are carried out here through `schedule.runner.run_once`, so the delivery log decides what is
sent, exactly as for a scheduled run, and a per-job lock file keeps a double click from running the job twice
at once. Approval goes through `schedule.approvals.decide` (one decision per content hash).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from reporting.approval import load_users
from reporting.errors import ReportingError
from reporting.portal.auth import Account, can, check_csrf, csrf_token, portal_secret, token_user, verify_password
from reporting.portal.builds import Build, build_file, build_json, builds, find_build, templates
from reporting.portal.jobs import job_rows, resend_sent, send, test_run
from reporting.project import Project
from reporting.redact import redact

__all__ = ["create_app"]

TEMPLATES = Path(__file__).with_name("templates")
Handler = Callable[[Request], Awaitable[Response]]


class Portal:
    """The application's state: the project, its users, the page templates."""

    def __init__(self, project: Project, *, secure_cookies: bool) -> None:
        from reporting.schedule.history import History

        self.project = project
        self.users, _ = load_users(project.root)
        try:  # an unreachable database fails here, before serving, with one clear line
            self.history = History.open(project.root)
        except (OSError, SQLAlchemyError) as exc:
            from reporting.schedule.history import history_url

            raise ReportingError(
                f"the portal cannot open the project database {redact(history_url(project.root))}: "
                f"{redact(str(exc).splitlines()[0])}; check REPORTING_HISTORY_URL and that the database is running"
            ) from None
        self.secure_cookies = secure_cookies
        self.pages = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))

    @property
    def open_mode(self) -> bool:
        from reporting.portal.auth import can_sign_in

        return not can_sign_in(self.project.root, self.users)

    def account(self, request: Request) -> Account | None:
        if self.open_mode:
            from reporting.portal.auth import LOCAL_ADMIN

            return Account(LOCAL_ADMIN, open_mode=True)
        email = request.session.get("user")
        user = self.users.get(email) if isinstance(email, str) else None
        if user is None and request.url.path.startswith("/api/"):  # third parties: a bearer token, read only
            user = token_user(self.project.root, self.users, request.headers.get("authorization"))
        return Account(user) if user is not None else None

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        account = self.account(request)
        text = self.pages.get_template(name).render(
            account=account,
            can=lambda action: can(account, action),
            csrf=csrf_token(request.session),
            flash=request.session.pop("flash", None),
            once=lambda: secrets.token_urlsafe(18),  # a form's one-time token: the same form twice acts once
            path=request.url.path,
            **context,
        )
        return HTMLResponse(text, status_code=status, headers=SECURITY_HEADERS)

    def visible(self, account: Account, items: list[Build]) -> list[Build]:
        return [b for b in items if account.sees(b.org)]

    def schedules(self) -> Any:
        from reporting.schedule.runner import load_project_schedules

        if not (self.project.root / "schedules.yaml").exists():
            return None
        return load_project_schedules(self.project)


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session["flash"] = {"kind": kind, "text": redact(text)}


def _guard(portal: Portal, action: str, handler: Handler) -> Handler:
    """Sign-in, the role the action needs, and the CSRF token on every POST."""

    async def guarded(request: Request) -> Response:
        account = portal.account(request)
        if account is None:
            if request.url.path.startswith("/api/"):
                return JSONResponse({"error": "sign in first"}, status_code=401)
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if not can(account, action):
            return portal.page(request, "error.html", 403, message=f"your role cannot do this ({action})")
        if request.method == "POST":
            form = await request.form()
            if not check_csrf(request.session, form.get("csrf")):
                return portal.page(
                    request, "error.html", 403, message="missing or wrong CSRF token: reload the page and try again"
                )
        return await handler(request)

    return guarded


def create_app(project: Project, *, secure_cookies: bool = True) -> Starlette:
    """The portal for `project`. `secure_cookies`: session cookies only over HTTPS (off only for plain HTTP
    on loopback, which is what `reporting serve` passes when bound to 127.0.0.1 without a proxy)."""
    portal = Portal(project, secure_cookies=secure_cookies)

    async def login_page(request: Request) -> Response:
        if portal.open_mode:
            return RedirectResponse("/", status_code=303)
        if request.method == "GET":
            return portal.page(
                request, "login.html", next=request.query_params.get("next", "/"), oidc=portal.users.oidc
            )
        form = await request.form()
        if not check_csrf(request.session, form.get("csrf")):
            return portal.page(request, "error.html", 403, message="missing or wrong CSRF token: reload and try again")
        user = verify_password(project.root, portal.users, str(form.get("email", "")), str(form.get("password", "")))
        if user is None:
            return portal.page(
                request, "login.html", 401, error="wrong address or password", next="/", oidc=portal.users.oidc
            )
        request.session.clear()  # a new session on sign-in: no fixation
        request.session["user"] = user.email
        target = str(form.get("next", "/"))
        return RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/", 303)

    oidc = None
    if portal.users.oidc is not None:
        from reporting.portal.oidc import OidcSignIn

        oidc = OidcSignIn(portal.users.oidc)

    async def oidc_start(request: Request) -> Response:
        from reporting.portal.oidc import OidcFailed

        if oidc is None:
            return portal.page(request, "error.html", 404, message="sign-in with OpenID Connect is not configured")
        try:
            response: Response = await oidc.start(request, str(request.url_for("oidc_callback")))
        except OidcFailed as exc:
            return portal.page(request, "login.html", 502, error=str(exc), next="/", oidc=oidc.options)
        return response

    async def oidc_callback(request: Request) -> Response:
        from reporting.portal.oidc import OidcFailed

        if oidc is None:
            return portal.page(request, "error.html", 404, message="sign-in with OpenID Connect is not configured")
        try:
            user = await oidc.finish(request, portal.users)
        except OidcFailed as exc:
            request.session.clear()
            return portal.page(request, "login.html", 401, error=str(exc), next="/", oidc=oidc.options)
        request.session.clear()
        request.session["user"] = user.email
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    async def packs(request: Request) -> Response:
        account = portal.account(request)
        assert account is not None
        latest: dict[tuple[str, str], Build] = {}  # (pack, organisation) -> its latest period's build
        for b in portal.visible(account, builds(project.outputs)):
            latest.setdefault((b.pack, b.folder_org or ""), b)
        return portal.page(
            request, "packs.html", templates=templates(project), latest=sorted(latest.values(), key=lambda b: b.key)
        )

    async def pack(request: Request) -> Response:
        account = portal.account(request)
        assert account is not None
        name = request.path_params["pack"]
        found = [b for b in portal.visible(account, builds(project.outputs)) if b.pack == name]
        return portal.page(request, "pack.html", pack=name, builds=found)

    def _build_of(request: Request) -> Build | None:
        account = portal.account(request)
        p = request.path_params
        found = find_build(project.outputs, p["pack"], p["period"], p.get("org") or None)
        return found if found is not None and account is not None and account.sees(found.org) else None

    async def download(request: Request) -> Response:
        found = _build_of(request)
        path = build_file(found, request.path_params["name"]) if found is not None else None
        if path is None:  # another organisation's pack and a file that is not there look the same
            return portal.page(request, "error.html", 404, message="no such file")
        inline = path.suffix in {".html", ".pdf", ".json", ".csv"}
        headers = {"X-Content-Type-Options": "nosniff"}
        if path.suffix == ".html":  # the HTML edition, read in place: its own page, sandboxed
            headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        return FileResponse(
            path,
            headers=headers,
            filename=None if inline else path.name,
            content_disposition_type="inline" if inline else "attachment",
        )

    async def runs(request: Request) -> Response:
        from reporting.schedule.delivery_kinds import describe, kinds_of
        from reporting.schedule.history import ADDRESS

        account = portal.account(request)
        assert account is not None
        job = request.query_params.get("job") or None
        listed = [d for d in portal.history.deliveries(job, limit=300) if account.sees(d["org_code"])]
        kinds = kinds_of(portal.history, [d["id"] for d in listed])
        return portal.page(
            request,
            "runs.html",
            # a run's error names the recipients it did not reach, of every organisation: here as <address>
            # (every user sees the runs; the scoped delivery log below names each with its error)
            runs=[
                {**r, "error": ADDRESS.sub("<address>", r["error"] or "")} for r in portal.history.runs(job, limit=100)
            ],
            deliveries=[{**d, "kind": kinds.get(d["id"]), "what": describe(kinds.get(d["id"]))} for d in listed],
            actions=portal.history.actions(50),
            job=job,
        )

    async def jobs(request: Request) -> Response:
        rows = job_rows(project, portal.history, portal.schedules())
        return portal.page(request, "jobs.html", rows=rows, all_paused=portal.history.paused("*") is not None)

    async def resend_view(request: Request) -> Response:
        from reporting.schedule.delivery_kinds import delivery

        account = portal.account(request)
        assert account is not None
        form = await request.form()
        number = request.path_params["delivery"]
        text, kind, detail = await run_in_threadpool(
            resend_sent,
            project,
            number,
            account.user.email,
            str(form.get("reason", "")),
            str(form.get("once", "")),
            account.sees,
        )
        _flash(request, text, kind)
        row = delivery(portal.history, number)
        job = row["job_id"] if row is not None and account.sees(row["org_code"]) else None
        portal.history.record_action(account.user.email, "resend-delivered", job, detail)
        return RedirectResponse("/runs#deliveries", status_code=303)

    async def job_action(request: Request) -> Response:
        account = portal.account(request)
        assert account is not None
        form = await request.form()
        job_id, action = request.path_params["job"], request.path_params["action"]
        schedules = portal.schedules()
        known = {j.id for j in schedules.jobs} if schedules is not None else set()
        if job_id != "*" and job_id not in known:
            return portal.page(request, "error.html", 404, message=f"no job {job_id}")
        by = account.user.email
        if action == "pause":
            portal.history.pause(job_id, by)
            _flash(request, f"paused {'every job' if job_id == '*' else job_id}: scheduled runs are skipped")
        elif action == "resume":
            portal.history.resume(job_id)
            _flash(request, f"resumed {'every job' if job_id == '*' else job_id}")
        elif action in {"send", "resend"} and job_id != "*":
            address = str(form.get("recipient", "")).strip()
            if action == "resend" and not address:
                return portal.page(request, "error.html", 400, message="resend needs a recipient")
            _flash(request, *await run_in_threadpool(send, project, job_id, address))  # the loop keeps serving
        elif action == "test" and job_id != "*":
            text, kind, detail = await run_in_threadpool(
                test_run, project, portal.history, job_id, by, str(form.get("once", ""))
            )
            _flash(request, text, kind)
            portal.history.record_action(by, "test run", job_id, detail)
            return RedirectResponse("/jobs", status_code=303)
        else:
            return portal.page(request, "error.html", 404, message=f"no action {action}")
        # not the address resent to: every analyst sees this table (the scoped delivery log names it)
        portal.history.record_action(by, action, job_id, "to one recipient" if form.get("recipient") else "")
        return RedirectResponse("/jobs", status_code=303)

    async def approvals(request: Request) -> Response:
        queue = []
        account = portal.account(request)
        assert account is not None
        for event in portal.history.pending_approvals():
            found = find_build(project.outputs, event["pack"], event["period"], event["org_code"] or None)
            if found is None:
                found = find_build(project.outputs, event["pack"], event["period"], None)
            if found is not None and not account.sees(found.org):
                continue
            latest = found is not None and (found.approval or {}).get("content_sha256") == event["content_hash"]
            queue.append({"event": event, "build": found, "latest": latest, "job": _job_of(event)})
        trail = [e for e in portal.history.approval_trail() if account.sees(e["org_code"] or None)]
        return portal.page(request, "approvals.html", queue=queue, trail=list(reversed(trail)))

    async def decide_view(request: Request) -> Response:
        from reporting.schedule.approvals import decide

        account = portal.account(request)
        assert account is not None
        form = await request.form()
        if request.path_params["decision"] not in {"approve", "reject"}:
            return portal.page(request, "error.html", 404, message="no such decision")
        approved = request.path_params["decision"] == "approve"
        org = str(form.get("org", "")) or None
        found = find_build(project.outputs, str(form.get("pack", "")), str(form.get("period", "")), org)
        if found is not None and not account.sees(found.org):
            return portal.page(request, "error.html", 404, message="no such build")
        try:
            decision = await run_in_threadpool(
                decide,
                project,
                str(form.get("target", "")),
                period=str(form.get("period", "")),
                content_hash=str(form.get("hash", "")),
                by=account.user.email,
                comment=str(form.get("comment", "")),
                approved=approved,
                org=org,
            )
        except ReportingError as exc:
            _flash(request, str(exc), "error")
            return RedirectResponse("/approvals", status_code=303)
        what = "approved" if approved else "rejected"
        sent = f"; sent to {len(decision.report.sent)}" if decision.report is not None else ""
        _flash(
            request,
            f"{decision.pack} {decision.period} was already {what}"
            if decision.already
            else f"{what} {decision.pack} {decision.period}{sent}",
        )
        return RedirectResponse("/approvals", status_code=303)

    async def api_packs(request: Request) -> Response:
        account = portal.account(request)
        public = {t["pack"] for t in templates(project) if t["public"]}
        out = [
            build_json(b)
            for b in builds(project.outputs)
            if (account is not None and account.sees(b.org)) or _open(b, public)
        ]
        if account is None and not out and not public:
            return JSONResponse({"error": "sign in first"}, status_code=401)
        return JSONResponse({"builds": out}, headers={"Cache-Control": "no-store"})

    async def api_build(request: Request) -> Response:
        account = portal.account(request)
        p = request.path_params
        found = find_build(project.outputs, p["pack"], p["period"], p.get("org") or None)
        public = {t["pack"] for t in templates(project) if t["public"]}
        if found is None or not ((account is not None and account.sees(found.org)) or _open(found, public)):
            return JSONResponse({"error": "no such build"}, status_code=404)
        return JSONResponse({**build_json(found), "manifest": found.manifest})

    from reporting.portal.preview import Previewer

    previewer = Previewer(project)

    def _choice(request: Request) -> tuple[str, str | None, str | None]:
        q = request.query_params
        return q.get("pack", ""), q.get("org") or None, q.get("period") or None

    async def preview(request: Request) -> Response:
        pack_id, org, period = _choice(request)
        account = portal.account(request)
        assert account is not None
        if org is not None and not account.sees(org):
            return portal.page(request, "error.html", 404, message="no such organisation for you")
        return portal.page(
            request, "preview.html", templates=templates(project), pack=pack_id, org=org or "", period=period or ""
        )

    async def preview_frame(request: Request) -> Response:
        pack_id, org, period = _choice(request)
        account = portal.account(request)
        assert account is not None
        if not pack_id or (org is not None and not account.sees(org)):
            return HTMLResponse("<p>Pick a pack.</p>", headers=SECURITY_HEADERS)
        text, problems = await previewer.render(pack_id, org, period)
        if problems:
            body = portal.pages.get_template("preview_errors.html").render(problems=problems)
            return HTMLResponse(body, headers=SECURITY_HEADERS)
        return HTMLResponse(
            text, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"}
        )

    async def preview_events(request: Request) -> Response:
        import asyncio

        from starlette.responses import StreamingResponse

        stop = asyncio.Event()

        async def stream() -> Any:
            yield "retry: 1000\n\n"
            try:
                async for names in previewer.changes(stop):
                    yield f"event: changed\ndata: {' '.join(names)}\n\n"
            finally:
                stop.set()

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name != "preview.js":
            return Response(status_code=404)
        return FileResponse(TEMPLATES / name, media_type="text/javascript")

    def guard(action: str, handler: Handler) -> Handler:
        return _guard(portal, action, handler)

    routes = [
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/login/oidc", oidc_start),
        Route("/auth/oidc", oidc_callback, name="oidc_callback"),
        Route("/logout", guard("view", logout), methods=["POST"]),
        Route("/", guard("view", packs)),
        Route("/packs/{pack}", guard("view", pack)),
        Route("/files/{pack}/{period}/{name}", guard("view", download)),
        Route("/files/{pack}/{period}/{org}/{name}", guard("view", download)),
        Route("/runs", guard("history", runs)),
        Route("/jobs", guard("history", jobs)),
        Route("/jobs/{job}/{action}", guard("operate", job_action), methods=["POST"]),
        Route("/deliveries/{delivery:int}/resend", guard("operate", resend_view), methods=["POST"]),
        Route("/approvals", guard("history", approvals)),
        Route("/approvals/{decision:str}", guard("decide", decide_view), methods=["POST"]),
        Route("/preview", guard("preview", preview)),
        Route("/preview/frame", guard("preview", preview_frame)),
        Route("/preview/events", guard("preview", preview_events)),
        Route("/static/{name}", static),
        Route("/api/builds", api_packs),
        Route("/api/builds/{pack}/{period}", api_build),
        Route("/api/builds/{pack}/{period}/{org}", api_build),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=portal_secret(project.root),
            session_cookie="reporting_session",
            same_site="strict",
            https_only=secure_cookies,
            max_age=8 * 3600,
        )
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.portal = portal
    return app


def _open(build: Build, public: set[str]) -> bool:
    """A build anyone may read through the API: of a `public: true` pack, and not a draft awaiting approval."""
    return build.pack in public and (build.approval or {}).get("status") != "draft"


def _job_of(event: dict[str, Any]) -> str:
    actor = str(event.get("actor", ""))
    return actor.removeprefix("job ") if actor.startswith("job ") else str(event["pack"])
