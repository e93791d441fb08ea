"""The admins' moderation page: the open reports with their actions, and the audit log."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shutterbox.domain.moderation import ReportStatus
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web.rendering import page_viewer, render
from shutterbox.services.context import Services
from shutterbox.services.moderation import reports

router = Router()
SHOWN = 50


@router.get("/admin/moderation", response_class=HTMLResponse)
async def read_moderation_page(request: Request) -> Response:
    viewer, _ = await page_viewer(request)
    if viewer is None:
        return RedirectResponse("/login?next=/admin/moderation", status_code=303)
    if not viewer.is_admin:
        context = {"heading": "Admins only", "message": "This page is for the admins."}
        return await render(request, "message.html", context, status_code=403)
    services: Services = app_state(request.app).services
    queue = await reports.queue(services, viewer, ReportStatus.OPEN, SHOWN, None)
    audit = await reports.audit(services, viewer, SHOWN, None)
    shown = {"active": "moderation", "reports": queue.items, "audit": audit.items}
    return await render(request, "moderation.html", shown)
