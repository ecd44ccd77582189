"""Pages of the group chat robots (R116): administrators register, edit, deactivate and test
robots. Thin: reads through ``restrict`` (a missing role 403, an unknown robot 404), writes
through the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access import can
from crm.exports import xlsx_response
from crm.forms import apply_errors

from . import services
from .forms import RobotFilter, RobotForm
from .models import ChatRobot

PAGE_SIZE = 30


def _require(user, action: str) -> None:
    if not can(user, action, ChatRobot):
        raise PermissionDenied(_("只有系统管理员可以管理群机器人。"))


def rows(user, action: str = "view"):
    return ChatRobot.objects.restrict(user, action).select_related("branch", "department__branch")


@login_required
def robot_list(request):
    """Every robot, by unit; filters by unit, platform and state; Excel export of what is shown."""
    _require(request.user, "view")
    qs = rows(request.user)
    flt = RobotFilter(request.GET or None)
    if flt.is_valid():
        data = flt.cleaned_data
        if data["q"]:
            qs = qs.filter(
                Q(name__icontains=data["q"])
                | Q(branch__name__icontains=data["q"])
                | Q(department__name__icontains=data["q"])
            )
        if data["unit"]:
            qs = qs.filter(unit=data["unit"])
        if data["kind"]:
            qs = qs.filter(kind=data["kind"])
        if data["active"]:
            qs = qs.filter(is_active=data["active"] == "1")
    qs = qs.order_by("unit", "branch__sort_order", "department__name", "name", "pk")
    if request.GET.get("export") == "xlsx":
        return _export(qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "robots/robot_list.html",
        {"page": page, "filter": flt, "can_add": can(request.user, "add", ChatRobot)},
    )


def _export(qs):
    headers = [_("所属单位"), _("名称"), _("机器人类型"), _("Webhook 地址"), _("加签"), _("接收的通知类别"), _("状态"),
               _("最近测试时间"), _("最近测试结果")]  # fmt: skip

    def out():
        for r in qs:
            yield [
                r.scope_label, r.name, r.get_kind_display(), r.masked_url, _("已设置") if r.secret else "",
                "、".join(r.notice_kind_labels()), _("启用") if r.is_active else _("已停用"), r.last_test_at,
                "" if r.last_test_ok is None else (_("成功") if r.last_test_ok else r.last_test_error),
            ]  # fmt: skip

    return xlsx_response(_("群机器人"), _("群机器人"), headers, out())


def _history(robot):
    """Each change of the robot: who, when, what (the secret is not in the history)."""
    records = list(robot.history.select_related("history_user").order_by("-history_date", "-history_id"))
    shown = []
    for record in records:
        changes = []
        previous = record.prev_record
        if previous is not None:
            for change in record.diff_against(previous).changes:
                field = ChatRobot._meta.get_field(change.field)
                changes.append(str(field.verbose_name))
        shown.append({"record": record, "changes": changes})
    return shown


@login_required
def robot_detail(request, pk):
    _require(request.user, "view")
    robot = get_object_or_404(rows(request.user), pk=pk)
    return render(
        request,
        "robots/robot_detail.html",
        {"robot": robot, "history": _history(robot), "can_change": can(request.user, "change", ChatRobot)},
    )


def _save(request, robot, form, created: bool):
    try:
        saved = services.robot_save(
            robot=form.save(commit=False),
            by=request.user,
            secret=form.cleaned_data.get("secret") or None,
            clear_secret=form.cleaned_data.get("clear_secret", False),
        )
    except ValidationError as error:
        apply_errors(form, error)
        return None
    messages.success(request, _("群机器人已登记。") if created else _("群机器人已保存。"))
    return redirect("robots:robot-detail", pk=saved.pk)


@login_required
def robot_create(request):
    _require(request.user, "add")
    form = RobotForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        instance=ChatRobot(is_active=True),
    )
    if request.method == "POST" and form.is_valid():
        done = _save(request, None, form, created=True)
        if done is not None:
            return done
    return render(
        request, "robots/robot_form.html", {"form": form, "robot": None}, status=400 if form.errors else 200
    )


@login_required
def robot_edit(request, pk):
    _require(request.user, "change")
    robot = get_object_or_404(rows(request.user, "change"), pk=pk)
    form = RobotForm(request.POST if request.method == "POST" else None, user=request.user, instance=robot)
    if request.method == "POST" and form.is_valid():
        done = _save(request, robot, form, created=False)
        if done is not None:
            return done
    return render(
        request, "robots/robot_form.html", {"form": form, "robot": robot}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def robot_set_active(request, pk):
    """Deactivate (``active=0``) or reactivate (``active=1``) a robot."""
    _require(request.user, "change")
    robot = get_object_or_404(rows(request.user, "change"), pk=pk)
    active = request.POST.get("active") == "1"
    services.robot_set_active(robot=robot, by=request.user, active=active)
    messages.success(request, _("群机器人已启用。") if active else _("群机器人已停用,不再接收通知。"))
    return redirect("robots:robot-detail", pk=robot.pk)


@login_required
@require_POST
def robot_test(request, pk):
    """Send a test message now and show the platform's answer."""
    _require(request.user, "change")
    robot = get_object_or_404(rows(request.user, "change"), pk=pk)
    try:
        robot = services.robot_send_test(robot=robot, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("robots:robot-detail", pk=robot.pk)
    if robot.last_test_ok:
        messages.success(request, _("测试消息已发送成功。"))
    else:
        messages.error(request, _("测试消息发送失败:%(error)s") % {"error": robot.last_test_error})
    return redirect("robots:robot-detail", pk=robot.pk)
