"""Maintenance windows: active, upcoming and past on one page; staff schedule, end and delete them."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.views import apply_error, staff_required

from .. import maintenance, selectors
from ..forms import MaintenanceWindowForm
from ..models import MaintenanceWindow


def _maintenance_page(
    request: HttpRequest, form: MaintenanceWindowForm | None, status: int = 200
) -> HttpResponse:
    overview = selectors.maintenance_overview_for_user(user=request.user)
    return render(
        request,
        "alertmanager/maintenance_list.html",
        {
            "nav": "maintenance",
            "form": form,
            "overview": overview,
            "time_zone": settings.TIME_ZONE,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def maintenance_list(request: HttpRequest) -> HttpResponse:
    """Active, upcoming and past windows; staff schedule new ones with the form on the same page."""
    if request.method == "GET":
        return _maintenance_page(request, MaintenanceWindowForm() if request.user.is_staff else None)
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can schedule maintenance windows.")
    form = MaintenanceWindowForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            window = maintenance.maintenance_window_create(
                name=data["name"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                matchers=data["matchers"],
                integration=data["integration"],
                comment=data["comment"],
                actor=request.user,
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"Maintenance window “{window.name}” scheduled.")
            return redirect("alertmanager:maintenance")
    return _maintenance_page(request, form, status=400)


def _get_window(request: HttpRequest, pk: int) -> MaintenanceWindow:
    try:
        return selectors.maintenance_get_for_user(user=request.user, pk=pk)
    except MaintenanceWindow.DoesNotExist:
        raise Http404("No such maintenance window.") from None


@require_POST
@staff_required("Only staff can schedule or end maintenance windows.")
def maintenance_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End an active window now: from here on matching alerts open incidents again."""
    window = _get_window(request, pk)
    try:
        maintenance.maintenance_window_end(window=window, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Maintenance window “{window.name}” ended.")
    return redirect("alertmanager:maintenance")


@require_POST
@staff_required("Only staff can schedule or end maintenance windows.")
def maintenance_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel an upcoming window, or remove a past one from the list."""
    window = _get_window(request, pk)
    try:
        maintenance.maintenance_window_delete(window=window, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Maintenance window “{window.name}” deleted.")
    return redirect("alertmanager:maintenance")
