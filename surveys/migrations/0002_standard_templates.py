"""Ship the standard questionnaire (R20, seed 001: four dimensions) and the real-estate
benchmark (seed 002) with its base and target values for the current year (R23)."""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

# (code, name, name_en, description, importance, is_summary, [(text, text_en, scale)], (base, target))
STANDARD = [
    (
        "customer_service",
        "客户服务",
        "Customer service",
        "向客户提供工程信息和服务建议等",
        "0.25",
        False,
        [
            ("我方及时向贵单位提供工程进展信息", "We keep you informed of the project's progress", "five"),
            ("我方提出的服务建议对贵单位有帮助", "Our suggestions are useful to you", "five"),
        ],
        ("0.59", "0.70"),
    ),
    (
        "engineering_quality",
        "工程质量",
        "Engineering quality",
        "符合相关标准、兑现承诺、达到客户使用要求",
        "0.35",
        False,
        [
            ("工程质量符合国家及行业相关标准", "The works meet the applicable standards", "five"),
            ("我方兑现了合同及各项承诺", "We kept our contract and our promises", "five"),
            ("工程达到贵单位的使用要求", "The works meet your requirements for use", "five"),
        ],
        ("0.49", "0.55"),
    ),
    (
        "service_quality",
        "服务质量",
        "Service quality",
        "与集团公司上下接触过程中的感受",
        "0.20",
        False,
        [
            ("我方人员的服务态度", "The attitude of our people", "five"),
            ("我方对贵单位问题和要求的响应速度", "How quickly we answer your questions and requests", "five"),
        ],
        ("0.55", "0.65"),
    ),
    (
        "after_service",
        "竣工后服务",
        "After-completion service",
        "信息反馈和投诉、维护和修缮",
        "0.20",
        False,
        [
            ("竣工后信息反馈及投诉处理", "Feedback and complaint handling after completion", "five"),
            ("维护和修缮的及时性与效果", "Timeliness and effect of maintenance and repairs", "five"),
        ],
        ("0.65", "0.75"),
    ),
    (
        "loyalty",
        "忠诚度",
        "Loyalty",
        "再次合作及推荐意愿",
        "0",
        True,
        [
            ("您是否愿意与我集团再次合作", "Would you work with us again?", "five"),
            (
                "您向其他单位推荐我集团的可能性有多大(0-10分)",
                "How likely are you to recommend us to others (0-10)?",
                "ten",
            ),
        ],
        ("0.30", "0.32"),
    ),
]

# Seed 002, 提高目标: 总体满意度 55%→65%, 忠诚度 30%→32%, 规划 81%→84%, 销售 81%→85%,
# 工程 49%→55%, 客服 59%→70%, 物业 65%→75% (the middle column of the table is a stage value).
BENCHMARK = [
    (
        "planning",
        "规划设计",
        "Planning and design",
        "户型、配套、门窗、阳台等规划设计",
        "0.20",
        False,
        [("规划设计(户型、配套设施、舒适度)", "Planning and design (layout, amenities, comfort)", "five")],
        ("0.81", "0.84"),
    ),
    (
        "sales",
        "销售",
        "Sales",
        "销售人员的态度、专业能力与承诺",
        "0.10",
        False,
        [("销售人员的服务态度与专业能力", "Attitude and competence of the sales staff", "five")],
        ("0.81", "0.85"),
    ),
    (
        "engineering",
        "工程",
        "Engineering",
        "工程实体质量与维修",
        "0.30",
        False,
        [
            ("工程实体质量(墙体、门窗、楼地面、屋面)", "Build quality (walls, windows, floors, roofs)", "five"),
            ("质量问题维修的及时性和一次成功率", "Timeliness and first-time success of repairs", "five"),
        ],
        ("0.49", "0.55"),
    ),
    (
        "customer_service",
        "客服",
        "Customer service",
        "投诉解决的效率、结果与反馈",
        "0.20",
        False,
        [("投诉处理的效率、结果与反馈及时性", "Speed, outcome and feedback of complaint handling", "five")],
        ("0.59", "0.70"),
    ),
    (
        "property",
        "物业",
        "Property management",
        "社区安全、环境与物业服务",
        "0.20",
        False,
        [("物业管理(安全、环境、服务)", "Property management (safety, environment, service)", "five")],
        ("0.65", "0.75"),
    ),
    (
        "overall",
        "总体满意度",
        "Overall satisfaction",
        "",
        "0",
        True,
        [("总体而言,您对我方的满意程度", "Overall, how satisfied are you with us?", "five")],
        ("0.55", "0.65"),
    ),
    (
        "loyalty",
        "忠诚度",
        "Loyalty",
        "再次合作及推荐意愿",
        "0",
        True,
        [
            ("您是否愿意与我方再次合作", "Would you work with us again?", "five"),
            (
                "您向亲友或其他单位推荐我方的可能性有多大(0-10分)",
                "How likely are you to recommend us (0-10)?",
                "ten",
            ),
        ],
        ("0.30", "0.32"),
    ),
]

TEMPLATES = [
    (
        "standard",
        "客户满意度调查表(标准)",
        "Client satisfaction survey (standard)",
        "尊敬的客户:感谢您一直以来对我集团的信任与支持。为不断提高服务质量,请您对以下各项作出评价"
        "(1分=很不满意,5分=很满意)。",
        "Dear client, thank you for your trust. Please rate each item (1 = very dissatisfied, 5 = very satisfied).",
        True,
        STANDARD,
    ),
    (
        "real-estate-benchmark",
        "房地产客户满意度调查表(标杆)",
        "Real-estate client satisfaction survey (benchmark)",
        "尊敬的业主:为提升产品与服务,请您对以下各项作出评价(1分=很不满意,5分=很满意)。",
        "Dear owner, please rate each item (1 = very dissatisfied, 5 = very satisfied).",
        False,
        BENCHMARK,
    ),
]


def ship(apps, schema_editor):
    SurveyTemplate = apps.get_model("surveys", "SurveyTemplate")
    Dimension = apps.get_model("surveys", "Dimension")
    Question = apps.get_model("surveys", "Question")
    Target = apps.get_model("surveys", "Target")
    year = timezone.localdate().year
    for code, name, name_en, intro, intro_en, is_default, dims in TEMPLATES:
        template, _ = SurveyTemplate.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "intro": intro, "intro_en": intro_en, "is_default": is_default},
        )
        for order, (dcode, dname, dname_en, desc, importance, summary, questions, (base, target)) in enumerate(dims):
            dim, created = Dimension.objects.get_or_create(
                template=template,
                code=dcode,
                defaults={
                    "name": dname,
                    "name_en": dname_en,
                    "description": desc,
                    "importance": Decimal(importance),
                    "is_summary": summary,
                    "order": (order + 1) * 10,
                },
            )
            if created:
                for qorder, (text, text_en, scale) in enumerate(questions):
                    Question.objects.create(
                        dimension=dim, text=text, text_en=text_en, scale=scale, order=(qorder + 1) * 10
                    )
            for y in (year - 1, year, year + 1):
                Target.objects.get_or_create(
                    dimension=dim, year=y, defaults={"base": Decimal(base), "target": Decimal(target)}
                )


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]

    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
