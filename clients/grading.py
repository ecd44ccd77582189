"""Grading (R7), the satisfaction/loyalty quadrant (R8) and the scale-profit class of B clients
(R13), derived from recorded facts. Every result carries its basis, so the archive page can
show why; a fact nobody recorded reads as "not enough data", never as an invented value."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .facts import fact
from .models import Grade, SocialValue

# R8: a satisfaction rate (share of 4-5 answers) at or above this is "high".
SATISFACTION_HIGH = 0.8
# R8: this many projects or more is repeat cooperation, i.e. high loyalty.
REPEAT_COOPERATION_PROJECTS = 2


def scale_profit_thresholds() -> tuple[Decimal, Decimal]:
    """R13: scale-profit class of B clients. A client whose projects add up to at least this
    contract value (yuan) is "large scale"; a profit margin at or above the second is "high
    profit". Configurable: CRM_SCALE_PROFIT_LARGE_CONTRACT_YUAN, CRM_SCALE_PROFIT_HIGH_MARGIN."""
    return (
        Decimal(str(settings.CRM_SCALE_PROFIT_LARGE_CONTRACT_YUAN)),
        Decimal(str(settings.CRM_SCALE_PROFIT_HIGH_MARGIN)),
    )


@dataclass(frozen=True)
class Criterion:
    """One fact behind the suggestion: which grade it points to, and whether it holds."""

    key: str
    label: str
    points_to: str  # "A" (all must hold) or "C" (any one suffices)
    held: bool

    def as_dict(self) -> dict:
        return {"key": self.key, "label": str(self.label), "points_to": self.points_to, "held": self.held}


def _project_count(client) -> int:
    annotated = getattr(client, "project_count", None)
    if annotated is not None:
        return annotated
    if not client.pk:
        return 0
    return client.projects.count()


def _unreasonable_complaints(client) -> int | None:
    annotated = getattr(client, "unreasonable_count", None)
    if annotated is not None:
        return annotated
    if not client.pk:
        return 0
    return fact("unreasonable_complaints", client)


def suggest_grade(client) -> tuple[str, list[dict]]:
    """R7: the suggested grade and the criteria behind it.

    C if any C criterion holds (unknown client; bad integrity record in the cooperation history;
    demanding; unreasonable complaints before; low profit with complex procedure; poor
    reputation; the client's own problems). A if every A criterion holds (cooperation history,
    good integrity, good credit, high social value, near-term need). B otherwise."""
    projects = _project_count(client)
    history = projects > 0
    complaints = _unreasonable_complaints(client)
    unknown = not history and not client.integrity_good and not client.credit_good
    a_criteria = [
        Criterion("history", _("有合作历史"), "A", history),
        Criterion("integrity_good", _("诚信良好"), "A", client.integrity_good and not client.integrity_bad),
        Criterion("credit_good", _("资信良好"), "A", client.credit_good),
        Criterion("social_value", _("社会价值高"), "A", client.social_value == SocialValue.HIGH),
        Criterion("near_term_need", _("近期有合作需求"), "A", client.near_term_need),
    ]
    complaint_label = (
        _("曾有无理投诉(投诉数据暂缺)")
        if complaints is None
        else _("曾有无理投诉(%(n)d 次)") % {"n": complaints}
    )
    c_criteria = [
        Criterion("unknown", _("陌生客户(无合作历史、无诚信资信信息)"), "C", unknown),
        Criterion("integrity_bad", _("合作历史中有不良诚信记录"), "C", client.integrity_bad),
        Criterion("demanding", _("要求苛刻"), "C", client.demanding),
        Criterion("unreasonable_complaints", complaint_label, "C", bool(complaints)),
        Criterion("low_profit_complex", _("利润低且程序复杂"), "C", client.low_profit_complex),
        Criterion("poor_reputation", _("口碑差"), "C", client.poor_reputation),
        Criterion("company_problems", _("客户自身存在问题"), "C", client.company_problems),
    ]
    if any(c.held for c in c_criteria):
        grade = Grade.C
    elif all(c.held for c in a_criteria):
        grade = Grade.A
    else:
        grade = Grade.B
    return str(grade), [c.as_dict() for c in a_criteria + c_criteria]


QUADRANTS = {
    (True, True): ("loyal", gettext_lazy("忠诚客户")),
    (False, True): ("locked_in", gettext_lazy("套牢客户")),
    (False, False): ("double_low", gettext_lazy("双低客户")),
    (True, False): ("price_seeking", gettext_lazy("低价偏好客户")),
}


def quadrant(client) -> dict:
    """R8: the satisfaction/loyalty quadrant with its basis. ``code`` is None while there is
    no survey data (shown as 数据不足, "not enough data")."""
    projects = _project_count(client)
    loyal = projects >= REPEAT_COOPERATION_PROJECTS
    loyalty_basis = _("合作项目 %(n)d 个(≥%(k)d 个为重复合作,忠诚度高)") % {
        "n": projects,
        "k": REPEAT_COOPERATION_PROJECTS,
    }
    satisfaction = fact("satisfaction", client) if client.pk else None
    if not satisfaction or satisfaction.get("rate") is None:
        return {
            "code": None,
            "label": _("数据不足"),
            "basis": _("暂无满意度调查结果;") + loyalty_basis,
            "loyal": loyal,
            "satisfied": None,
        }
    satisfied = satisfaction["rate"] >= SATISFACTION_HIGH
    code, label = QUADRANTS[(satisfied, loyal)]
    sat_basis = satisfaction.get("basis") or _("满意率 %(r).0f%%(%(n)s 份答卷)") % {
        "r": satisfaction["rate"] * 100,
        "n": satisfaction.get("answers", "?"),
    }
    return {
        "code": code,
        "label": str(label),
        "basis": f"{sat_basis};{loyalty_basis}",
        "loyal": loyal,
        "satisfied": satisfied,
    }


SCALE_PROFIT_LABELS = {
    (True, False): gettext_lazy("规模大利润低"),
    (False, True): gettext_lazy("规模小利润高"),
    (True, True): gettext_lazy("规模大利润高"),
    (False, False): gettext_lazy("规模小利润低"),
}


def scale_profit_class(projects) -> str | None:
    """R13: the scale-profit class of a (B) client from its projects; None without projects."""
    projects = list(projects)
    value = sum((p.contract_value or Decimal(0) for p in projects), Decimal(0))
    profit = sum((p.profit or Decimal(0) for p in projects), Decimal(0))
    return scale_profit_of(len(projects), value, profit)


def scale_profit_of(count: int, value, profit) -> str | None:
    """R13: the scale-profit class from the projects' number and totals (contract value and
    profit, yuan), as the client page reads them with the client; None without projects."""
    if not count:
        return None
    value, profit = Decimal(value or 0), Decimal(profit or 0)
    large_value, margin = scale_profit_thresholds()
    large = value >= large_value
    high = value > 0 and (profit / value) >= margin
    return str(SCALE_PROFIT_LABELS[(large, high)])
