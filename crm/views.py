"""Pages of the shell: home, login, notifications, global search, error pages."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import dashboard, search, services
from .models import Notification


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request):
    """The workbench (工作台): what needs the user's attention, by role."""
    return render(request, "crm/home.html", {"panels": dashboard.panels(request.user)})


@login_required
def notification_list(request):
    qs = Notification.objects.filter(recipient=request.user)
    if request.GET.get("unread"):
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "crm/notification_list.html", {"page": page})


@login_required
def notification_open(request, pk):
    note = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_read(notification=note, user=request.user)
    if note.url and url_has_allowed_host_and_scheme(note.url, allowed_hosts={request.get_host()}):
        return redirect(note.url)
    return redirect("notification-list")


@login_required
@require_POST
def notification_read_all(request):
    n = services.notification_read_all(user=request.user)
    messages.success(request, _("已将 %(n)d 条通知标为已读。") % {"n": n})
    return redirect("notification-list")


@login_required
def global_search(request):
    query = request.GET.get("q", "")
    return render(request, "crm/search.html", {"q": query, "groups": search.search(request.user, query)})


def error_403(request, exception=None):
    # Views raise PermissionDenied with a message for the user (who may do this); show it.
    message = str(exception) if exception is not None else ""
    return render(request, "403.html", {"exception": exception, "message": message}, status=403)


def error_404(request, exception=None):
    # A path under /api/ no route matches (an id that is not a number, say): the API's own
    # JSON answer, as its clients and schema expect, not the HTML page.
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("未找到。")}, status=404)
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)
