"""The archive's figures (R12, R13, R26; design.md "Figures"): defined once here, read by the
monthly report, the dashboards and the assessment through crm.figures. Each reads through
``restrict(user, "view")`` and returns the rows behind its count."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from crm.figures import Column, Figure, Rate, Window, detail_url, jsonable, narrow, register, rows_of, section

from .models import (
    Client,
    GiveUp,
    Grade,
    GradeChange,
    Need,
    NeedConflict,
    Project,
    Stage,
    StageChange,
    Visit,
    VisitPlan,
)
from .projects.selectors import collected_by, unsettled_q
from .selectors import needs_collection_overdue_q

section("clients", _("客户档案"))
section("needs", _("客户需求"))
section("visits", _("拜访"))

GRADES = dict(Grade.choices)
STAGES = dict(Stage.choices)


def _client_url(row) -> str:
    return detail_url("clients:client-detail")(row["client_id"])


def _give_up_url(row) -> str:
    return detail_url("clients:give-up-detail")(row["id"])


def _project_url(row) -> str:
    return detail_url("clients:project-detail")(row["id"])


def _own_url(row) -> str:
    return detail_url("clients:client-detail")(row["id"])


# ---------------------------------------------------------------------------------- clients


def projects_unsettled(user, window: Window) -> list[dict]:
    """R59: completed projects (by the end of the window) with a design fee not settled at the
    end of the window (standing), with what had been collected by then."""
    last = window.last_day
    qs = (
        narrow(Project.objects.restrict(user, "view"), window, department="department_id")
        .filter(unsettled_q(last))
        .annotate(collected=collected_by(last))
    )
    return rows_of(
        qs.order_by("completed_on", "pk"),
        url=_project_url,
        department="department_id",
        client_id="client_id",
        client="client__name",
        name="name",
        completed="completed_on",
        fee="design_fee",
        collected="collected",
    )


def new_clients(user, window: Window) -> list[dict]:
    qs = narrow(Client.objects.restrict(user, "view"), window, department="department_id", at="created_at")
    return rows_of(
        qs.order_by("created_at", "pk"),
        url=_own_url,
        department="department_id",
        name="name",
        grade="grade",
        stage="stage",
        owner="owner__full_name",
        at="created_at",
    )


# Fields whose change is not a change of the record as a person reads it: derived columns,
# bookkeeping, and what has figures of its own (grade, stage).
_NOT_A_CHANGE = {
    "id",
    "version",
    "created_at",
    "updated_at",
    "name_normalized",
    "phone_normalized",
    "search_text",
    "grade",
    "graded_at",
    "stage",
    "tracking",  # R40: giving up has a figure of its own (clients_given_up)
}


def _tracked_fields() -> list[str]:
    return [
        f.attname
        for f in Client._meta.concrete_fields
        if f.attname not in _NOT_A_CHANGE and not f.attname.startswith("history_")
    ]


def changed_clients(user, window: Window) -> list[dict]:
    """R26 "changed records (what changed)": clients of the window's scope whose archive form was
    edited in the window, with the fields that changed; clients created in the window count as
    new, not as changed. Two queries: the clients, then their history up to the window's end."""
    History = Client.history.model
    edited = History.objects.filter(
        id=OuterRef("pk"), history_type="~", history_date__gte=window.start, history_date__lt=window.end
    )
    clients = narrow(Client.objects.restrict(user, "view"), window, department="department_id").filter(
        Exists(edited), created_at__lt=window.start
    )
    info = {
        c["pk"]: c for c in clients.values("pk", "name", "branch_id", "department_id", "owner__full_name")
    }
    if not info:
        return []
    fields = _tracked_fields()
    history = (
        History.objects.filter(id__in=list(info), history_date__lt=window.end)
        .order_by("id", "history_date", "history_id")
        .values("id", "history_date", "history_type", "history_user__full_name", *fields)
    )
    changed: dict[int, dict] = {}
    previous: dict[int, dict] = {}
    for h in history:
        pk = h["id"]
        before = previous.get(pk)
        previous[pk] = h
        if before is None or h["history_date"] < window.start:
            continue
        diff = [f for f in fields if h[f] != before[f]]
        if not diff:
            continue
        entry = changed.setdefault(pk, {"fields": [], "at": None, "by": ""})
        entry["fields"] += [f for f in diff if f not in entry["fields"]]
        entry["at"] = h["history_date"]
        entry["by"] = h["history_user__full_name"] or entry["by"]
    rows = []
    for pk, entry in sorted(changed.items(), key=lambda kv: (kv[1]["at"], kv[0])):
        client = info[pk]
        rows.append(
            {
                "id": pk,
                "url": _own_url({"id": pk}),
                "branch_id": client["branch_id"],
                "department_id": client["department_id"],
                "name": client["name"],
                "fields": entry["fields"],
                "by": entry["by"],
                "at": jsonable(entry["at"]),
                "owner": client["owner__full_name"],
            }
        )
    return rows


class _FieldLabels(dict):
    """Field name -> its label, translated when shown (the rows keep field names)."""

    def get(self, key, default=None):
        field = next((f for f in Client._meta.concrete_fields if f.attname == key), None)
        return field.verbose_name if field is not None else default


def grade_changes(user, window: Window) -> list[dict]:
    qs = narrow(
        GradeChange.objects.restrict(user, "view"),
        window,
        department="client__department_id",
        at="changed_at",
    )
    return rows_of(
        qs.order_by("changed_at", "pk"),
        url=_client_url,
        department="client__department_id",
        client_id="client_id",
        client="client__name",
        from_grade="from_grade",
        to_grade="to_grade",
        by="changed_by__full_name",
        reason="reason",
        at="changed_at",
    )


def stage_changes(user, window: Window) -> list[dict]:
    qs = narrow(
        StageChange.objects.restrict(user, "view"),
        window,
        department="client__department_id",
        at="changed_at",
    )
    return rows_of(
        qs.order_by("changed_at", "pk"),
        url=_client_url,
        department="client__department_id",
        client_id="client_id",
        client="client__name",
        from_stage="from_stage",
        to_stage="to_stage",
        by="changed_by__full_name",
        at="changed_at",
    )


def needs_collection_overdue(user, window: Window) -> list[dict]:
    """R12: clients whose needs collection is overdue at the end of the window (standing)."""
    qs = narrow(Client.objects.restrict(user, "view"), window, department="department_id").filter(
        needs_collection_overdue_q(window.last_day), created_at__lt=window.end
    )
    return rows_of(
        qs.order_by("name", "pk"),
        url=_own_url,
        department="department_id",
        name="name",
        grade="grade",
        owner="owner__full_name",
        collected="needs_collected_on",
    )


def clients_given_up(user, window: Window) -> list[dict]:
    """R40: C clients whose give-up the branch manager confirmed in the window (those resumed or
    ended by a grade change since count too: the decision was taken in the window)."""
    qs = narrow(
        GiveUp.objects.restrict(user, "view"), window, department="client__department_id", at="decided_at"
    ).exclude(status__in=[GiveUp.Status.PROPOSED, GiveUp.Status.REJECTED])
    return rows_of(
        qs.order_by("decided_at", "pk"),
        url=_give_up_url,
        department="client__department_id",
        client_id="client_id",
        client="client__name",
        reason="reason",
        note="note",
        proposed_by="proposed_by__full_name",
        by="decided_by__full_name",
        at="decided_at",
    )


# ------------------------------------------------------------------------------------ needs

URGENCIES = dict(Need.Urgency.choices)
CATEGORIES = dict(Need.Category.choices)
NEED_STATUSES = dict(Need.Status.choices)
ORIGINS = dict(Need.Origin.choices)
LEVELS = dict(Need.Level.choices)
# Seed 003, 按需求性质分类: 功能性需求 / 非功能性需求 (Need.is_functional).
NATURES = {True: _("功能性需求"), False: _("非功能性需求")}


def _needs(qs):
    """A need figure's rows: with its classification (R50: urgency, category, nature, origin)
    and the assessment recorded on it (value, feasibility), by which the quarterly need analysis
    report (R66) counts the need figures' records."""
    return rows_of(
        qs.order_by("received_at", "pk"),
        url=_client_url,
        department="client__department_id",
        client_id="client_id",
        client="client__name",
        category="category",
        urgency="urgency",
        nature="is_functional",
        origin="origin",
        value="value_assessment",
        feasibility="feasibility",
        received="received_at",
        due="response_due_at",
        responded="responded_at",
        status="status",
    )


def _needs_qs(user, window, **kw):
    """The needs a figure counts: R51, a need merged into another is not a need of its own (its
    survivor is counted), so it leaves every need figure and the rates built on them."""
    qs = Need.objects.restrict(user, "view").exclude(status=Need.Status.MERGED)
    return narrow(qs, window, department="client__department_id", **kw)


def needs_received(user, window: Window) -> list[dict]:
    return _needs(_needs_qs(user, window, at="received_at"))


def needs_due(user, window: Window) -> list[dict]:
    """R12's denominator: needs whose response deadline fell in the window."""
    return _needs(_needs_qs(user, window, at="response_due_at"))


def needs_on_time(user, window: Window) -> list[dict]:
    """R12's numerator: of the needs due in the window, those answered by their deadline."""
    return _needs(
        _needs_qs(user, window, at="response_due_at").filter(
            responded_at__isnull=False, responded_at__lte=F("response_due_at")
        )
    )


def needs_done(user, window: Window) -> list[dict]:
    """R12 completion: of the needs received in the window, those done."""
    return _needs(_needs_qs(user, window, at="received_at").filter(status=Need.Status.DONE))


# R49: the client's evaluation of how needs were handled (seed 003's third monitoring indicator,
# «客户满意度:... 客户对需求处理结果的满意度评价»), counted in the period of the rating.
RATINGS = dict(Need.Rating.choices)
RATING_CHANNELS = dict(Need.RatingChannel.choices)


def _need_url(row) -> str:
    return detail_url("clients:need-detail")(row["id"])


def _rated(qs):
    return rows_of(
        qs.order_by("rated_at", "pk"),
        url=_need_url,
        department="client__department_id",
        client_id="client_id",
        client="client__name",
        description="description",
        rating="rating",
        comment="rating_comment",
        channel="rating_channel",
        at="rated_at",
    )


def needs_rated(user, window: Window) -> list[dict]:
    """R49's denominator: needs whose handling the client rated in the window."""
    return _rated(_needs_qs(user, window, at="rated_at").exclude(rating=""))


def needs_rated_satisfied(user, window: Window) -> list[dict]:
    """R49's numerator: of the needs rated in the window, those rated 满意 or 基本满意."""
    return _rated(_needs_qs(user, window, at="rated_at").filter(rating__in=Need.SATISFIED_RATINGS))


def needs_merged(user, window: Window) -> list[dict]:
    """R51, R66: the duplicates merged into another need in the window (seed 003, 需求整合:
    «去除重复...的需求»). Each is counted once, in the window of its merge; it counts in no
    other need figure (``_needs_qs``)."""
    qs = narrow(
        Need.objects.restrict(user, "view").filter(status=Need.Status.MERGED),
        window,
        department="client__department_id",
        at="merged_at",
    )
    return rows_of(
        qs.order_by("merged_at", "pk"),
        url=_need_url,
        department="client__department_id",
        client_id="client_id",
        client="client__name",
        description="description",
        into="merged_into__description",
        by="merged_by__full_name",
        at="merged_at",
    )


def need_conflicts(user, window: Window) -> list[dict]:
    """R52, R66: the pairs of needs marked as contradicting each other in the window (seed 003,
    需求整合: «去除...矛盾的需求»)."""
    qs = narrow(
        NeedConflict.objects.restrict(user, "view"),
        window,
        department="first__client__department_id",
        at="marked_at",
    )
    return rows_of(
        qs.order_by("marked_at", "pk"),
        url=lambda row: _need_url({"id": row["first_id"]}),
        department="first__client__department_id",
        client_id="first__client_id",
        client="first__client__name",
        first_id="first_id",
        first="first__description",
        second="second__description",
        note="note",
        by="marked_by__full_name",
        at="marked_at",
    )


# ----------------------------------------------------------------------------------- visits

CHANNELS = dict(Visit.Channel.choices)


def visits_done(user, window: Window) -> list[dict]:
    qs = narrow(
        Visit.objects.restrict(user, "view"), window, department="client__department_id", at="visited_at"
    )
    return rows_of(
        qs.order_by("visited_at", "pk"),
        url=_client_url,
        department="client__department_id",
        client_id="client_id",
        client="client__name",
        channel="channel",
        people="our_people",
        at="visited_at",
    )


def _plans_due_qs(user, window: Window):
    """R13: the visit plans that called for a visit in the window: those due by its last day and
    not yet visited, and those visited in it (a plan's next date moves on after each visit)."""
    visited = Visit.objects.filter(
        plan=OuterRef("pk"), visited_at__gte=window.start, visited_at__lt=window.end
    )
    qs = narrow(VisitPlan.objects.restrict(user, "view"), window, department="client__department_id")
    return (
        qs.filter(is_active=True)
        .annotate(visited=Exists(visited))
        .filter(Q(next_due_on__lte=window.last_day) | Q(visited=True))
    )


def _plans(qs):
    return rows_of(
        qs.order_by("next_due_on", "pk"),
        url=_client_url,
        department="client__department_id",
        client_id="client_id",
        client="client__name",
        grade="client__grade",
        frequency="frequency",
        responsible="responsible__full_name",
        next_due="next_due_on",
    )


def plans_due(user, window: Window) -> list[dict]:
    return _plans(_plans_due_qs(user, window))


def plans_visited(user, window: Window) -> list[dict]:
    return _plans(_plans_due_qs(user, window).filter(visited=True))


FREQUENCIES = dict(VisitPlan.Frequency.choices)

_client = Column("client", _("客户"))
_at = Column("at", _("时间"), "datetime")

register(
    Figure(
        "new_clients",
        _("新增客户"),
        "clients",
        10,
        new_clients,
        (
            Column("name", _("客户")),
            Column("grade", _("分级"), choices=GRADES),
            Column("stage", _("阶段"), choices=STAGES),
            Column("owner", _("客户经理")),
            Column("at", _("建档时间"), "datetime"),
        ),
        help=_("期间内新建档的客户。"),
        model=Client,
    )
)
register(
    Figure(
        "changed_clients",
        _("档案变更客户"),
        "clients",
        20,
        changed_clients,
        (
            Column("name", _("客户")),
            Column("fields", _("变更内容"), choices=_FieldLabels()),
            Column("by", _("最后修改人")),
            Column("at", _("最后修改时间"), "datetime"),
        ),
        help=_("期间内修改过档案表的客户(分级、阶段另计;期间内新建的不计)。"),
        model=Client,
    )
)
register(
    Figure(
        "grade_changes",
        _("分级变更"),
        "clients",
        30,
        grade_changes,
        (
            _client,
            Column("from_grade", _("原分级"), choices=GRADES),
            Column("to_grade", _("新分级"), choices=GRADES),
            Column("by", _("操作人")),
            Column("reason", _("理由")),
            _at,
        ),
        help=_("期间内的分级变更:原分级、新分级、操作人、理由。"),
        model=GradeChange,
    )
)
register(
    Figure(
        "stage_changes",
        _("阶段变更"),
        "clients",
        40,
        stage_changes,
        (
            _client,
            Column("from_stage", _("原阶段"), choices=STAGES),
            Column("to_stage", _("新阶段"), choices=STAGES),
            Column("by", _("操作人")),
            _at,
        ),
        model=StageChange,
    )
)
register(
    Figure(
        "clients_given_up",
        _("放弃跟踪客户"),
        "clients",
        50,
        clients_given_up,
        (
            _client,
            Column("reason", _("放弃原因"), choices=dict(GiveUp.Reason.choices)),
            Column("note", _("情况说明")),
            Column("proposed_by", _("提议人")),
            Column("by", _("确认人")),
            Column("at", _("确认时间"), "datetime"),
        ),
        help=_("期间内经营部负责人确认放弃跟踪的C类客户。"),
        model=GiveUp,
    )
)
register(
    Figure(
        "projects_unsettled",
        _("竣工未结清项目"),
        "clients",
        60,
        projects_unsettled,
        (
            Column("name", _("项目名称")),
            _client,
            Column("completed", _("竣工日期"), "date"),
            Column("fee", _("设计费(元)")),
            Column("collected", _("已收(元)")),
        ),
        help=_("期间末已竣工、设计费尚未结清的项目。"),
        flow=False,
        model=Project,
    )
)
_need_columns = (
    _client,
    Column("category", _("需求类别"), choices=CATEGORIES),
    Column("urgency", _("紧急程度"), choices=URGENCIES),
    Column("received", _("接收时间"), "datetime"),
    Column("due", _("响应期限"), "datetime"),
    Column("responded", _("响应时间"), "datetime"),
    Column("status", _("状态"), choices=NEED_STATUSES),
)
# What the needs received are also counted by (R66: the quarterly need analysis report).
_need_received_columns = (
    _need_columns[:3]
    + (
        Column("nature", _("需求性质"), choices=NATURES),
        Column("origin", _("需求来源层次"), choices=ORIGINS),
        Column("value", _("价值评估"), choices=LEVELS),
        Column("feasibility", _("可行性"), choices=LEVELS),
    )
    + _need_columns[3:]
)
register(
    Figure("needs_received", _("收到需求"), "needs", 110, needs_received, _need_received_columns, model=Need)
)
register(
    Figure(
        "needs_due",
        _("到期需求"),
        "needs",
        120,
        needs_due,
        _need_columns,
        help=_("响应期限在期间内的需求(响应及时率的分母)。"),
        model=Need,
    )
)
register(
    Figure(
        "needs_on_time",
        _("按期响应"),
        "needs",
        130,
        needs_on_time,
        _need_columns,
        help=_("到期需求中在期限前响应的。"),
        model=Need,
    )
)
register(
    Figure(
        "needs_done",
        _("已完成需求"),
        "needs",
        140,
        needs_done,
        _need_columns,
        help=_("期间内收到且已完成的需求。"),
        model=Need,
    )
)
register(
    Rate(
        "needs_on_time_rate",
        _("需求响应及时率"),
        "needs",
        150,
        "needs_on_time",
        "needs_due",
        help=_("按期响应 ÷ 到期需求。"),
    )
)
register(
    Rate(
        "needs_completion_rate",
        _("需求完成率"),
        "needs",
        160,
        "needs_done",
        "needs_received",
        help=_("已完成需求 ÷ 收到需求。"),
    )
)
_rating_columns = (
    _client,
    Column("description", _("需求内容")),
    Column("rating", _("处理结果评价"), choices=RATINGS),
    Column("comment", _("评价意见")),
    Column("channel", _("评价方式"), choices=RATING_CHANNELS),
    Column("at", _("评价时间"), "datetime"),
)
register(
    Figure(
        "needs_rated",
        _("已评价需求"),
        "needs",
        162,
        needs_rated,
        _rating_columns,
        help=_("期间内客户对处理结果作出评价的需求(需求处理满意度的分母)。"),
        breakdown=("rating",),
        model=Need,
    )
)
register(
    Figure(
        "needs_rated_satisfied",
        _("评价满意的需求"),
        "needs",
        164,
        needs_rated_satisfied,
        _rating_columns,
        help=_("期间内客户评价为满意或基本满意的需求。"),
        model=Need,
    )
)
register(
    Rate(
        "needs_rating_satisfaction",
        _("需求处理满意度"),
        "needs",
        166,
        "needs_rated_satisfied",
        "needs_rated",
        help=_("评价满意(含基本满意)的需求 ÷ 已评价需求。"),
    )
)
register(
    Figure(
        "needs_merged",
        _("合并的重复需求"),
        "needs",
        167,
        needs_merged,
        (
            _client,
            Column("description", _("需求内容")),
            Column("into", _("合并至")),
            Column("by", _("合并人")),
            Column("at", _("合并时间"), "datetime"),
        ),
        help=_("期间内作为重复需求合并至另一条需求的(不再计入其他需求指标)。"),
        model=Need,
    )
)
register(
    Figure(
        "need_conflicts",
        _("标记的矛盾需求"),
        "needs",
        168,
        need_conflicts,
        (
            _client,
            Column("first", _("需求")),
            Column("second", _("矛盾的需求")),
            Column("note", _("矛盾说明")),
            Column("by", _("标记人")),
            Column("at", _("标记时间"), "datetime"),
        ),
        help=_("期间内标记为相互矛盾的需求(每对计一次)。"),
        model=NeedConflict,
    )
)
register(
    Figure(
        "needs_collection_overdue",
        _("需求收集逾期客户"),
        "needs",
        170,
        needs_collection_overdue,
        (
            Column("name", _("客户")),
            Column("grade", _("分级"), choices=GRADES),
            Column("owner", _("客户经理")),
            Column("collected", _("最近需求收集日期"), "date"),
        ),
        help=_("期间末需求收集逾期的客户:A类每月、其他每季度至少一次。"),
        flow=False,
        model=Client,
    )
)
register(
    Figure(
        "visits_done",
        _("拜访次数"),
        "visits",
        310,
        visits_done,
        (
            _client,
            Column("channel", _("接触方式"), choices=CHANNELS),
            Column("people", _("我方人员")),
            Column("at", _("拜访时间"), "datetime"),
        ),
        model=Visit,
    )
)
_plan_columns = (
    _client,
    Column("grade", _("分级"), choices=GRADES),
    Column("frequency", _("拜访频次"), choices=FREQUENCIES),
    Column("responsible", _("负责人")),
    Column("next_due", _("下次拜访日期"), "date"),
)
register(
    Figure(
        "plans_due",
        _("应拜访计划"),
        "visits",
        320,
        plans_due,
        _plan_columns,
        help=_("期间内到期的拜访计划(含期间内已拜访的)。"),
        flow=False,
        model=VisitPlan,
    )
)
register(
    Figure(
        "plans_visited",
        _("按计划完成拜访"),
        "visits",
        330,
        plans_visited,
        _plan_columns,
        help=_("应拜访计划中期间内已拜访的。"),
        model=VisitPlan,
    )
)
register(
    Rate(
        "plan_visit_rate",
        _("拜访计划完成率"),
        "visits",
        340,
        "plans_visited",
        "plans_due",
        help=_("按计划完成拜访 ÷ 应拜访计划。"),
    )
)


def grades_as_of(at, *, branch_ids=None, queryset=None) -> dict[int, dict[str, int]]:
    """R29, R35: each branch's numbers of A, B and C clients as they stood at ``at``, read back
    from the grading trail (R7: every grade change is a GradeChange): a client's grade at ``at``
    is the "from" of its first change after ``at``, else its grade now. Clients created after
    ``at`` are not counted. The whole group (the rankings are the group's); one query."""
    from django.db.models import Count, Subquery
    from django.db.models.functions import Coalesce

    later = GradeChange.objects.filter(client=OuterRef("pk"), changed_at__gt=at).order_by("changed_at", "pk")
    qs = (queryset if queryset is not None else Client.objects.all()).filter(created_at__lte=at)
    if branch_ids is not None:
        qs = qs.filter(branch_id__in=list(branch_ids))
    rows = (
        qs.annotate(then=Coalesce(Subquery(later.values("from_grade")[:1]), F("grade")))
        .order_by()
        .values("branch_id", "then")
        .annotate(n=Count("pk"))
    )
    out: dict[int, dict[str, int]] = {}
    for row in rows:
        grade = row["then"] or Grade.C  # graded for the first time after ``at``: the default
        counts = out.setdefault(row["branch_id"], {g: 0 for g in Grade.values})
        counts[grade] += row["n"]
    return out


def grade_transitions(queryset, start, end) -> dict[tuple[str, str], list[int]]:
    """R35: how each client's grade at ``start`` became its grade at ``end`` (both read back from
    the grading trail), as (from, to) -> client ids, for the clients of ``queryset`` (restricted by
    the caller) that existed at ``start``. One query."""
    from django.db.models import Subquery
    from django.db.models.functions import Coalesce

    def grade_at(moment):
        later = GradeChange.objects.filter(client=OuterRef("pk"), changed_at__gt=moment).order_by(
            "changed_at", "pk"
        )
        return Coalesce(Subquery(later.values("from_grade")[:1]), F("grade"))

    rows = (
        queryset.filter(created_at__lte=start)
        .annotate(g_from=grade_at(start), g_to=grade_at(end))
        .values_list("pk", "g_from", "g_to")
    )
    out: dict[tuple[str, str], list[int]] = {}
    for pk, g_from, g_to in rows:
        out.setdefault((g_from or Grade.C, g_to or Grade.C), []).append(pk)
    return out


class GradeTimeline:
    """Every client's grade at any moment, read back from the grading trail (R7) in two queries
    and answered in memory: the dashboards ask it for twelve month ends and the two dates of
    the transition matrix (R35), which as correlated subqueries cost a scan of the archive each.
    A client's grade at ``at`` is the "from" of its first change after ``at``, else its grade
    now; clients created after ``at`` do not count."""

    def __init__(self, queryset):
        import bisect  # noqa: F401  (used in grade_at)

        self.clients = list(queryset.order_by().values_list("pk", "branch_id", "grade", "created_at"))
        changes: dict[int, tuple[list, list]] = {}
        rows = (
            GradeChange.objects.filter(client__in=queryset.order_by().values("pk"))
            .order_by("client_id", "changed_at", "pk")
            .values_list("client_id", "changed_at", "from_grade")
        )
        for client_id, changed_at, from_grade in rows.iterator(chunk_size=5000):
            times, grades = changes.setdefault(client_id, ([], []))
            times.append(changed_at)
            grades.append(from_grade or Grade.C)
        self.changes = changes

    def grade_at(self, pk: int, now_grade: str, at) -> str:
        import bisect

        found = self.changes.get(pk)
        if not found:
            return now_grade
        times, grades = found
        i = bisect.bisect_right(times, at)
        return grades[i] if i < len(times) else now_grade

    def counts(self, at) -> dict[str, int]:
        out = {g: 0 for g in Grade.values}
        for pk, _branch, grade, created in self.clients:
            if created <= at:
                out[self.grade_at(pk, grade, at)] += 1
        return out

    def clients_at(self, at, grade: str) -> list[int]:
        """The clients behind ``counts(at)[grade]``: those in the archive at ``at`` whose grade
        then was ``grade``."""
        return [
            pk
            for pk, _branch, now_grade, created in self.clients
            if created <= at and self.grade_at(pk, now_grade, at) == grade
        ]

    def counts_many(self, moments) -> list[dict[str, int]]:
        """``counts`` at each moment in one backward walk from now: undo the grade changes and
        creations later than each moment, latest first (each change once)."""
        events = [(created, 0, pk, None) for pk, _branch, _grade, created in self.clients]
        for pk, (times, grades) in self.changes.items():
            events += [(t, 1, pk, g) for t, g in zip(times, grades, strict=True)]
        events.sort(key=lambda e: e[0], reverse=True)
        grade_now = {pk: grade for pk, _branch, grade, _created in self.clients}
        counts = {g: 0 for g in Grade.values}
        for grade in grade_now.values():
            counts[grade] += 1
        out: dict = {}
        i = 0
        for at in sorted(set(moments), reverse=True):
            while i < len(events) and events[i][0] > at:
                _t, kind, pk, from_grade = events[i]
                i += 1
                if pk not in grade_now:
                    continue
                counts[grade_now[pk]] -= 1
                if kind == 1:
                    grade_now[pk] = from_grade
                    counts[from_grade] += 1
                else:
                    del grade_now[pk]
            out[at] = dict(counts)
        return [out[at] for at in moments]

    def transitions(self, start, end) -> dict[tuple[str, str], list[int]]:
        out: dict[tuple[str, str], list[int]] = {}
        for pk, _branch, grade, created in self.clients:
            if created <= start:
                key = (self.grade_at(pk, grade, start), self.grade_at(pk, grade, end))
                out.setdefault(key, []).append(pk)
        return out
