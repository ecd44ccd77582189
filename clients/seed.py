"""Demo data of the archive: a year of believable clients for every branch (design.md, "Demo
data and logins"). ``seed(org)`` is called by crm's ``seed_demo``.

Deterministic (one ``random.Random`` per branch, seeded by its code) and idempotent: each client
is keyed on its unified social credit code, and a client that already exists is skipped with
everything that hangs off it, so a second run creates nothing. Rows go in with ``bulk_create``;
clients through simple-history's bulk helper so that their history starts at their creation.

The vocabulary here (cities, districts, name patterns, people) is shared with ``seed_bulk``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from crm.validators import CREDIT_CODE_CHARS, credit_code_check_char, normalize_name, normalize_phone

from .models import (
    Client,
    Contact,
    Grade,
    GradeChange,
    Need,
    OrgType,
    Phase,
    Project,
    ProjectType,
    SocialValue,
    Stage,
    StageChange,
    Tag,
    Visit,
    VisitPlan,
    compose_search_text,
)

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    name: str
    abbr: str  # for e-mail domains
    area_code: str
    districts: tuple[tuple[str, str], ...]  # (district, administrative division code)
    streets: tuple[str, ...]


CITIES = {
    "上海": City(
        "上海",
        "sh",
        "021",
        (
            ("浦东新区", "310115"),
            ("徐汇区", "310104"),
            ("闵行区", "310112"),
            ("静安区", "310106"),
            ("嘉定区", "310114"),
        ),
        ("世纪大道", "张江路", "漕溪北路", "虹桥路", "南京西路", "沪闵路", "博园路", "龙阳路"),
    ),
    "苏州": City(
        "苏州",
        "sz",
        "0512",
        (("工业园区", "320571"), ("姑苏区", "320508"), ("吴中区", "320506"), ("相城区", "320507")),
        ("星湖街", "金鸡湖大道", "人民路", "东环路", "苏州大道东"),
    ),
    "杭州": City(
        "杭州",
        "hz",
        "0571",
        (("西湖区", "330106"), ("余杭区", "330110"), ("滨江区", "330108"), ("萧山区", "330109")),
        ("文一西路", "江南大道", "天目山路", "钱江路", "市心中路"),
    ),
    "宁波": City(
        "宁波", "nb", "0574", (("鄞州区", "330212"), ("海曙区", "330203")), ("宁穿路", "中山西路", "天童南路")
    ),
    "无锡": City(
        "无锡", "wx", "0510", (("新吴区", "320214"), ("滨湖区", "320211")), ("长江路", "太湖大道", "蠡湖大道")
    ),
    "南京": City(
        "南京",
        "nj",
        "025",
        (("鼓楼区", "320106"), ("江北新区", "320111"), ("建邺区", "320105"), ("江宁区", "320115")),
        ("中山北路", "江东中路", "浦滨路", "双龙大道", "汉中路"),
    ),
    "合肥": City(
        "合肥",
        "hf",
        "0551",
        (("蜀山区", "340104"), ("包河区", "340111"), ("高新区", "340171")),
        ("长江西路", "黄山路", "望江东路", "创新大道"),
    ),
    "常州": City(
        "常州", "cz", "0519", (("武进区", "320412"), ("新北区", "320411")), ("延政中路", "通江中路", "龙锦路")
    ),
    "深圳": City(
        "深圳",
        "szx",
        "0755",
        (
            ("南山区", "440305"),
            ("福田区", "440304"),
            ("前海合作区", "440305"),
            ("宝安区", "440306"),
            ("龙岗区", "440307"),
        ),
        ("深南大道", "科技园南路", "前海大道", "宝安大道", "龙岗大道", "福华三路"),
    ),
    "广州": City(
        "广州",
        "gz",
        "020",
        (("天河区", "440106"), ("南沙区", "440115"), ("黄埔区", "440112"), ("海珠区", "440105")),
        ("天河路", "珠江东路", "进港大道", "科学大道", "新港东路"),
    ),
    "东莞": City(
        "东莞",
        "dg",
        "0769",
        (("松山湖", "441900"), ("南城街道", "441900")),
        ("新城大道", "鸿福路", "东莞大道"),
    ),
    "佛山": City(
        "佛山",
        "fs",
        "0757",
        (("禅城区", "440604"), ("顺德区", "440606"), ("南海区", "440605")),
        ("季华五路", "德胜东路", "桂澜北路"),
    ),
    "珠海": City(
        "珠海",
        "zh",
        "0756",
        (("横琴新区", "440404"), ("香洲区", "440402")),
        ("环岛东路", "情侣中路", "九洲大道"),
    ),
}

BRANCH_CITIES = {
    "east": ("上海", "上海", "苏州", "杭州", "宁波", "无锡"),
    "south": ("深圳", "深圳", "广州", "东莞", "佛山", "珠海"),
    "design": ("上海", "南京", "杭州", "苏州", "合肥"),
    "install": ("南京", "南京", "合肥", "常州", "苏州"),
    "hq": ("上海",),
}

BRANCH_CLIENT_COUNTS = {"east": 36, "south": 32, "design": 28, "install": 26, "hq": 8}

BRANDS = (
    "恒嘉", "鼎泰", "铭远", "宏景", "嘉和", "御景", "海悦", "锦程", "华鼎", "金桥", "瑞丰", "盛世",
    "润达", "天安", "泰和", "新城汇", "滨湖", "云栖", "银泰丰", "众合",
)  # fmt: skip
WORDS = (
    "天宇", "博瑞", "科鸿", "昊天", "新拓", "华芯", "瀚海", "启明", "睿达", "凯越", "中恒", "思源",
    "远航", "联创", "德润", "金石", "卓信", "明德", "同济", "弘业", "汇通", "信达", "星河", "东方",
)  # fmt: skip
INDUSTRY_WORDS = (
    ("智能科技股份有限公司", "信息技术"),
    ("精密制造有限公司", "先进制造"),
    ("生物医药有限公司", "生物医药"),
    ("新能源科技有限公司", "新能源"),
    ("供应链管理有限公司", "现代物流"),
    ("电子科技有限公司", "电子信息"),
    ("汽车零部件有限公司", "汽车制造"),
    ("食品有限公司", "食品加工"),
)


@dataclass(frozen=True)
class Kind:
    """A kind of client: how its name is formed and what it builds."""

    code: str
    org_type: str
    industry: str
    reg: str  # first two characters of the credit code (registration authority and type)
    patterns: tuple[str, ...]
    project_types: tuple[str, ...]
    weight: int
    domain: str


KINDS = (
    Kind(
        "platform",
        OrgType.STATE_OWNED,
        "城市基础设施投资",
        "91",
        (
            "{city}市城市建设投资集团有限公司",
            "{city}{district}开发建设集团有限公司",
            "{city}{district}城市更新建设有限公司",
            "{city}{district}国有资产投资经营有限公司",
            "{city}轨道交通集团有限公司",
            "{city}交通投资集团有限公司",
            "{city}{district}产业园区开发有限公司",
        ),
        (ProjectType.INFRASTRUCTURE, ProjectType.CIVIL, ProjectType.COMMERCIAL),
        5,
        "com.cn",
    ),
    Kind(
        "government",
        OrgType.GOVERNMENT,
        "公共管理",
        "11",
        (
            "{city}市{district}建设和管理委员会",
            "{city}市重大工程建设办公室",
            "{city}{district}政府投资项目代建管理中心",
            "{city}{district}教育局",
            "{city}{district}卫生健康委员会",
        ),
        (ProjectType.CIVIL, ProjectType.INFRASTRUCTURE),
        3,
        "gov.cn",
    ),
    Kind(
        "hospital",
        OrgType.OTHER,
        "医疗卫生",
        "12",
        (
            "{city}市第{n}人民医院",
            "{city}市{district}中心医院",
            "{city}市妇幼保健院",
            "{city}市中医医院",
            "{city}{district}人民医院",
        ),
        (ProjectType.CIVIL,),
        3,
        "org.cn",
    ),
    Kind(
        "school",
        OrgType.OTHER,
        "教育",
        "12",
        (
            "{city}{district}实验学校",
            "{city}{district}外国语学校",
            "{city}职业技术学院",
            "{city}{district}第{n}中学",
            "{city}城市建设学院",
        ),
        (ProjectType.CIVIL,),
        3,
        "edu.cn",
    ),
    Kind(
        "developer",
        OrgType.REAL_ESTATE,
        "房地产开发",
        "91",
        (
            "{brand}置业({city})有限公司",
            "{city}{brand}房地产开发有限公司",
            "{city}{district}{brand}地产有限公司",
            "{brand}城市发展({city})有限公司",
        ),
        (ProjectType.RESIDENTIAL, ProjectType.COMMERCIAL),
        7,
        "com",
    ),
    Kind(
        "enterprise",
        OrgType.PRIVATE,
        "",
        "91",
        ("{city}{word}{industry}",),
        (ProjectType.INDUSTRIAL, ProjectType.COMMERCIAL),
        5,
        "com",
    ),
    Kind(
        "state_enterprise",
        OrgType.STATE_OWNED,
        "商务服务",
        "91",
        (
            "{city}国际会展中心有限公司",
            "{city}港务集团有限公司",
            "{city}文化旅游发展集团有限公司",
            "{city}水务集团有限公司",
            "{city}{district}科技园发展有限公司",
            "{city}燃气集团有限公司",
        ),
        (ProjectType.INFRASTRUCTURE, ProjectType.INDUSTRIAL, ProjectType.COMMERCIAL),
        3,
        "com.cn",
    ),
    Kind(
        "association",
        OrgType.SOCIAL_ORG,
        "社会组织",
        "51",
        ("{city}市建筑业协会", "{city}市慈善基金会", "{city}市体育总会", "{city}市养老服务协会"),
        (ProjectType.CIVIL,),
        1,
        "org.cn",
    ),
)

SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("罗", "luo"), ("高", "gao"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("沈", "shen"), ("蒋", "jiang"), ("钱", "qian"), ("陆", "lu"),
)  # fmt: skip
GIVEN = (
    ("建国", "jianguo"), ("海涛", "haitao"), ("晓东", "xiaodong"), ("文静", "wenjing"), ("志刚", "zhigang"),
    ("丽华", "lihua"), ("明", "ming"), ("强", "qiang"), ("敏", "min"), ("磊", "lei"), ("静", "jing"),
    ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"),
    ("涛", "tao"), ("超", "chao"), ("秀英", "xiuying"), ("建华", "jianhua"), ("国平", "guoping"),
    ("春燕", "chunyan"), ("宏伟", "hongwei"), ("立新", "lixin"), ("雪梅", "xuemei"), ("振华", "zhenhua"),
    ("子豪", "zihao"), ("雨婷", "yuting"), ("浩然", "haoran"), ("一鸣", "yiming"), ("嘉怡", "jiayi"),
)  # fmt: skip
POSITIONS = {
    "platform": (
        "董事长",
        "总经理",
        "副总经理",
        "工程管理部经理",
        "投资发展部部长",
        "成本合约部经理",
        "总工程师",
    ),
    "government": ("主任", "副主任", "基建处处长", "工程科科长", "计划财务科科长", "项目负责人"),
    "hospital": ("院长", "副院长", "基建处处长", "后勤保障处处长", "设备科科长", "办公室主任"),
    "school": ("校长", "副校长", "后勤处处长", "基建办主任", "总务主任"),
    "developer": ("董事长", "总经理", "项目总监", "设计管理部经理", "工程部经理", "采购部主管", "成本经理"),
    "enterprise": ("总经理", "副总经理", "厂长", "行政部经理", "基建项目负责人", "采购部经理"),
    "state_enterprise": ("总经理", "副总经理", "工程建设部部长", "资产管理部经理", "办公室主任"),
    "association": ("秘书长", "副秘书长", "办公室主任"),
}
SOCIAL_RELATIONS = (
    "",
    "",
    "与我方分公司总经理为同济大学校友",
    "曾任区建交委工程科科长",
    "与集团领导在行业协会共事",
    "其兄在我方项目部任职",
    "市人大代表",
    "与我方合作过三个项目,关系良好",
)

TAGS = ("重点工程", "政府平台", "长期合作", "医疗卫生", "教育系统", "城市更新", "EPC总承包", "观察客户")

PROJECT_PLACES = {
    "platform": ("一期", "二期", "安置房", "人才公寓", "城市更新片区", "综合管廊", "市政道路"),
    "government": ("政务服务中心", "档案馆", "体育馆", "图书馆", "社区服务中心", "安置房"),
    "hospital": ("门诊医技楼", "住院楼", "科研楼", "新院区", "发热门诊", "地下车库"),
    "school": ("教学楼", "学生宿舍楼", "图书馆", "体育馆", "食堂", "新校区"),
    "developer": ("一期", "二期", "三期", "A地块", "B地块", "商业综合体", "住宅小区"),
    "enterprise": ("厂房", "研发中心", "综合楼", "仓储物流中心", "二期厂区"),
    "state_enterprise": ("办公楼", "展馆", "码头配套", "研发中心", "调度中心"),
    "association": ("办公楼", "活动中心"),
}
PROJECT_WORK = {
    "east": ("施工总承包工程", "EPC工程总承包项目", "装饰装修工程", "改扩建工程"),
    "south": ("施工总承包工程", "EPC工程总承包项目", "土建及配套工程", "改造工程"),
    "design": ("方案及施工图设计", "全过程设计咨询", "建筑设计项目", "规划及建筑设计"),
    "install": ("机电安装工程", "暖通空调安装工程", "智能化系统工程", "消防及给排水安装工程"),
    "hq": ("施工总承包工程", "EPC工程总承包项目"),
}

NEED_TEXTS = {
    Need.Category.PRODUCT: (
        "希望在方案阶段增加装配式建筑比选,控制造价",
        "要求外立面采用低辐射中空玻璃,提高节能等级",
        "二期项目希望引入BIM全过程应用,施工前完成管线综合",
        "希望提供海绵城市设计专项方案",
        "要求病房楼增加负压隔离病区改造方案",
        "希望教学楼采用装配式钢结构,缩短工期以赶在开学前交付",
    ),
    Need.Category.SERVICE: (
        "希望缩短施工图出图周期,每周例会通报进度",
        "要求项目经理常驻现场,重大变更24小时内书面答复",
        "竣工后一年内每季度安排一次回访和设备巡检",
        "希望安排技术交流会,介绍超高层施工经验",
        "希望提供夜间施工降噪方案,减少居民投诉",
        "要求竣工资料按城建档案馆新标准整理",
    ),
    Need.Category.PRICE: (
        "希望结算审核周期控制在三个月以内",
        "对总包管理费比例有异议,希望重新商议",
        "希望采用分阶段付款方式,减轻资金压力",
        "要求钢材价格上涨部分按合同约定调差",
    ),
    Need.Category.OTHER: (
        "希望协助办理竣工验收备案手续",
        "希望推荐可靠的物业管理单位",
        "希望协调周边道路占道施工审批",
    ),
}
NEED_CHANNELS = ("上门拜访", "电话沟通", "项目例会", "技术交流会", "客户座谈", "微信沟通")
NEED_RESPONSES = (
    "已安排专人对接,形成书面方案报客户确认",
    "经评估可行,已纳入项目实施计划",
    "已与客户当面沟通,客户认可处理意见",
    "超出合同范围,已向客户说明并提出替代方案",
)

VISIT_NOTES = (
    "走访客户基建处,了解二期项目立项进展",
    "就竣工结算事宜与客户成本部门沟通",
    "参加客户组织的项目推进会,汇报施工进度",
    "陪同客户考察我方在建样板工程",
    "电话回访,客户对现场文明施工较满意",
    "技术交流:介绍装配式建筑及BIM应用案例",
    "年终走访,听取客户对我方服务的意见和建议",
    "节前拜访客户领导,沟通明年投资计划",
)
VISIT_OUTCOMES = (
    "客户有意向将三期项目交由我方承接",
    "客户提出结算资料需补充,已记录",
    "客户对项目经理工作表示认可",
    "获悉新项目将于下季度招标",
    "客户希望加强现场安全管理",
    "暂无新的合作需求,保持联系",
)
NEXT_STEPS = (
    "一周内提交项目建议书",
    "安排分公司领导拜访",
    "跟进招标信息,准备资格预审文件",
    "整理结算资料,月底前报送",
    "下月再次回访",
    "邀请客户参加集团技术交流会",
)
GRADE_REASONS = {
    "A": ("合作多年且诚信良好,近期有二期合作需求", "政府重点平台,社会价值高,明年投资计划明确"),
    "B": ("合作一般,近期暂无明确需求", "首次合作,诚信情况尚待观察"),
    "C": ("曾多次提出不合理投诉,回款拖延", "利润低且审批程序复杂", "新接触客户,情况不明"),
}
STAGE_NOTES = {
    Stage.INTENDED: "客户表达合作意向",
    Stage.PROSPECTIVE: "已参与投标/报价",
    Stage.SIGNED: "签订合同",
    Stage.DEVELOPED: "项目顺利实施,客户满意",
    Stage.PARTNER: "建立长期战略合作关系",
}
STAGES = [s.value for s in Stage]

# Needs of every urgency, weighted as they come in (R11 deadlines: clients.services).
URGENCIES = (Need.Urgency.URGENT, Need.Urgency.IMPORTANT, Need.Urgency.GENERAL)


# ---------------------------------------------------------------------------------------------
# Generators (pure functions of a Random)
# ---------------------------------------------------------------------------------------------


def org_code(rng: random.Random, new_style: bool) -> str:
    """A 9-character organisation code (GB 11714) with its check character."""
    letters = [c for c in CREDIT_CODE_CHARS if c.isalpha()]
    if new_style:  # codes given since 2015 start with "MA"
        body = (
            "MA"
            + rng.choice("0123456789")
            + "".join(rng.choice("0123456789" + "".join(letters)) for _ in range(5))
        )
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(rng: random.Random, reg: str, division: str) -> str:
    """A unified social credit code: authority and type, division, organisation code, check."""
    first17 = reg + division + org_code(rng, new_style=reg == "91" and rng.random() < 0.6)
    return first17 + credit_code_check_char(first17)


def person_name(rng: random.Random) -> tuple[str, str]:
    surname, s_py = rng.choice(SURNAMES)
    given, g_py = rng.choice(GIVEN)
    return surname + given, s_py + g_py


def mobile(rng: random.Random) -> str:
    prefix = rng.choice(
        ("138", "139", "137", "136", "135", "150", "151", "158", "186", "188", "189", "177", "199")
    )
    return prefix + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random, city: City, ext: bool = False) -> str:
    local = f"{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"
    return f"{city.area_code}-{local}" + (f"-{rng.randrange(800, 899)}" if ext else "")


def client_name(rng: random.Random, kind: Kind, city: City, district: str) -> str:
    pattern = rng.choice(kind.patterns)
    industry, _ = rng.choice(INDUSTRY_WORDS)
    district_short = district if district.endswith(("区", "街道")) else district
    return pattern.format(
        city=city.name,
        district=district_short,
        brand=rng.choice(BRANDS),
        word=rng.choice(WORDS),
        industry=industry,
        n=rng.choice("一二三四五六七八九"),
    )


def short_name(name: str, city: City) -> str:
    """The everyday short form of a client's name, used in project names."""
    core = name.split("(")[0]
    for suffix in ("股份有限公司", "有限公司", "集团", "委员会"):
        core = core.removesuffix(suffix)
    core = core.removeprefix(city.name).removeprefix("市")
    return core[:10] or name[:6]


def pick_kind(rng: random.Random) -> Kind:
    return rng.choices(KINDS, weights=[k.weight for k in KINDS])[0]


def money(value: float) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def office_moment(rng: random.Random, day: dt.date) -> dt.datetime:
    """A moment in office hours on ``day`` (Asia/Shanghai)."""
    hour = rng.choice((9, 10, 11, 13, 14, 15, 16, 17))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, rng.choice((0, 10, 20, 30, 40, 50)))))


def respond_moment(rng: random.Random, received: dt.datetime, due: dt.datetime, *, late: bool) -> dt.datetime:
    """When a need was answered: in office hours, by its deadline unless ``late``."""
    if late:
        # Never after the moment the demo is built (a need received yesterday and answered late
        # would otherwise be answered tomorrow).
        late_at = office_moment(rng, timezone.localdate(due) + dt.timedelta(days=rng.randint(1, 3)))
        return min(late_at, timezone.now() - dt.timedelta(minutes=5))
    first, last = timezone.localdate(received), timezone.localdate(due)
    moment = office_moment(rng, first + dt.timedelta(days=rng.randint(0, (last - first).days)))
    if not received < moment <= due:
        moment = received + (due - received) * rng.uniform(0.2, 0.9)
    return moment


def need_due(received_at: dt.datetime, urgency: str) -> tuple[dt.datetime, bool]:
    """The response deadline of a need (R11), by the archive's own rule."""
    from .services import need_due_at

    return need_due_at(urgency=urgency, received_at=received_at)


@contextlib.contextmanager
def keep_timestamps(*models):
    """Let bulk rows carry their own ``created_at``/``updated_at`` (a year of history) instead
    of "now": auto_now(_add) are switched off on these models for the duration."""
    saved = []
    for model in models:
        for name, attr in (("created_at", "auto_now_add"), ("updated_at", "auto_now")):
            try:
                f = model._meta.get_field(name)
            except Exception:  # noqa: BLE001 - a model without timestamps
                continue
            saved.append((f, attr, getattr(f, attr)))
            setattr(f, attr, False)
    try:
        yield
    finally:
        for f, attr, value in saved:
            setattr(f, attr, value)


# ---------------------------------------------------------------------------------------------
# The demo seed
# ---------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """One client and what hangs off it, before anything is saved."""

    client: Client
    kind: Kind
    city: City
    contacts: list[Contact] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    plan: VisitPlan | None = None
    grades: list[GradeChange] = field(default_factory=list)
    stages: list[StageChange] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def _grade_facts(rng: random.Random, grade: str) -> dict:
    """Facts behind the grade (R7), consistent with it."""
    if grade == Grade.A:
        return {
            "integrity_good": True,
            "credit_good": True,
            "social_value": rng.choice((SocialValue.HIGH, SocialValue.HIGH, SocialValue.MEDIUM)),
            "near_term_need": True,
        }
    if grade == Grade.C:
        bad = rng.choice(
            ("integrity_bad", "demanding", "low_profit_complex", "poor_reputation", "company_problems", None)
        )
        facts = {"social_value": rng.choice((SocialValue.LOW, SocialValue.MEDIUM))}
        if bad:
            facts[bad] = True
        facts["under_observation"] = rng.random() < 0.3
        return facts
    return {
        "integrity_good": rng.random() < 0.7,
        "credit_good": rng.random() < 0.6,
        "social_value": rng.choice(
            (SocialValue.MEDIUM, SocialValue.MEDIUM, SocialValue.LOW, SocialValue.HIGH)
        ),
        "near_term_need": rng.random() < 0.4,
    }


def grading_suggestion(facts: dict, projects: int) -> tuple[str, list[dict]]:
    """R7: what the grading rules (clients.grading.suggest_grade, the grading page's own)
    suggest for a client with these facts and this many projects, with the criteria: a demo
    grade change keeps the same record the grading service writes."""
    from .grading import suggest_grade

    probe = Client(**facts)
    probe.project_count = projects
    probe.unreasonable_count = 0
    return suggest_grade(probe)


def grading_reason(grade: str, suggested: str) -> str:
    """R7: the reason of a demo's first grading (a grade differing from the suggestion says why)."""
    if grade == suggested:
        return "建档定级"
    return "建档定级:" + GRADE_REASONS[grade][-1]


def plan_client(
    rng: random.Random,
    *,
    branch,
    departments: list,
    owners: list,
    city: City,
    now: dt.datetime,
    taken: set[str],
    recorder,
    grader=None,
) -> Plan | None:
    """Everything one demo client consists of, decided by ``rng`` (nothing saved). ``grader``
    grades it (R7: the branch manager, else group marketing: never staff)."""
    kind = pick_kind(rng)
    district, division = rng.choice(city.districts)
    for _ in range(12):
        name = client_name(rng, kind, city, district)
        if normalize_name(name) not in taken:
            break
        district, division = rng.choice(city.districts)
    else:
        return None
    taken.add(normalize_name(name))
    code = credit_code(rng, kind.reg, division)
    today = timezone.localdate(now)
    created = now - dt.timedelta(days=rng.randint(200, 365), hours=rng.randint(0, 8))
    grade = rng.choices((Grade.A, Grade.B, Grade.C), weights=(25, 50, 25))[0]
    facts = _grade_facts(rng, grade)
    if grade == Grade.A:
        stage = rng.choice((Stage.SIGNED, Stage.DEVELOPED, Stage.PARTNER, Stage.PARTNER))
    elif grade == Grade.B:
        stage = rng.choice((Stage.INTENDED, Stage.PROSPECTIVE, Stage.SIGNED, Stage.DEVELOPED))
    else:
        stage = rng.choice((Stage.POTENTIAL, Stage.POTENTIAL, Stage.INTENDED, Stage.SIGNED))
    owner = rng.choice(owners)
    dept = rng.choice(departments) if departments else None
    street = rng.choice(city.streets)
    domain_stub = f"{city.abbr}{code[10:14].lower()}.{kind.domain}"
    client_phone = landline(rng, city, ext=rng.random() < 0.2)
    client = Client(
        name=name,
        name_normalized=normalize_name(name),
        credit_code=code,
        org_type=kind.org_type,
        industry=kind.industry or rng.choice(INDUSTRY_WORDS)[1],
        address=f"{city.name}市{district}{street}{rng.randint(1, 2999)}号",
        phone=client_phone,
        phone_normalized=normalize_phone(client_phone),
        email=f"office@{domain_stub}",
        branch=branch,
        department=dept,
        owner=owner,
        stage=stage,
        grade=grade,
        graded_at=created + dt.timedelta(days=rng.randint(1, 60)),
        remarks=rng.choice(("", "", "年度重点跟踪客户", "上级单位统一招标", "付款较及时")),
        created_at=created,
        updated_at=created + dt.timedelta(days=rng.randint(0, 150)),
        **facts,
    )
    if grade == Grade.A:
        client.evaluation_of_us = rng.choice(("对我方施工质量和服务响应评价较高", "认可我方项目管理水平"))
        client.our_evaluation = "资信良好,付款及时,合作意愿强"
        client.design_value = "注重设计品质与绿色建筑认证"
        client.time_value = "工期要求严格,重视节点"
        client.service_value = "重视竣工后服务和回访"
    client._history_user = owner
    client._history_date = created
    plan = Plan(client=client, kind=kind, city=city)

    # Contacts: one to three, the first primary.
    positions = list(POSITIONS[kind.code])
    rng.shuffle(positions)
    for i in range(rng.randint(1, 3)):
        cname, py = person_name(rng)
        phone = mobile(rng) if rng.random() < 0.75 else landline(rng, city, ext=rng.random() < 0.5)
        plan.contacts.append(
            Contact(
                client=client,
                name=cname,
                position=positions[i % len(positions)],
                phone=phone,
                phone_normalized=normalize_phone(phone),
                email=f"{py}@{domain_stub}" if rng.random() < 0.7 else "",
                social_relations=rng.choice(SOCIAL_RELATIONS),
                is_primary=i == 0,
                created_at=created,
                updated_at=created,
            )
        )

    # Projects: cooperation history, more for signed and later stages.
    n_projects = 0 if stage in (Stage.POTENTIAL, Stage.INTENDED) else rng.randint(1, 3)
    if stage == Stage.PROSPECTIVE:
        n_projects = rng.randint(0, 1)
    works = PROJECT_WORK.get(branch.code, PROJECT_WORK["east"])
    short = short_name(name, city)
    for j in range(n_projects):
        ptype = rng.choice(kind.project_types)
        if branch.code == "design":
            value = rng.uniform(0.6e6, 18e6)
        elif branch.code == "install":
            value = rng.uniform(2e6, 60e6)
        else:
            value = rng.uniform(8e6, 450e6)
        margin = rng.uniform(0.03, 0.16) if grade != Grade.C else rng.uniform(-0.02, 0.06)
        signed = today - dt.timedelta(days=rng.randint(30, 900))
        started = signed + dt.timedelta(days=rng.randint(10, 60))
        age = (today - signed).days
        if stage == Stage.PROSPECTIVE:
            phase = Phase.BIDDING
        elif age > 700:
            phase = rng.choice((Phase.COMPLETED, Phase.AFTER_SERVICE, Phase.SETTLEMENT))
        elif age > 300:
            phase = rng.choice((Phase.CONSTRUCTION, Phase.SETTLEMENT, Phase.COMPLETED))
        else:
            phase = rng.choice((Phase.CONTRACT, Phase.DESIGN, Phase.CONSTRUCTION))
        completed = None
        if phase in (Phase.COMPLETED, Phase.AFTER_SERVICE, Phase.SETTLEMENT):
            completed = min(today - dt.timedelta(days=5), started + dt.timedelta(days=rng.randint(180, 600)))
        cost = value * (1 - margin)
        pdepts = [d for d in departments if not d.is_business_dept] or departments
        pm_name, _ = person_name(rng)
        plan.projects.append(
            Project(
                client=client,
                branch=branch,
                department=rng.choice(pdepts) if pdepts else None,
                name=f"{short}{rng.choice(PROJECT_PLACES[kind.code])}{rng.choice(works)}",
                code=f"{branch.code.upper()}-{signed:%Y}-{rng.randint(1, 999):03d}",
                project_type=ptype,
                phase=phase if phase != Phase.BIDDING or j == 0 else Phase.CONTRACT,
                manager_name=pm_name,
                contract_value=money(value),
                cost=money(cost),
                profit=money(value) - money(cost),
                signed_on=None if phase == Phase.BIDDING else signed,
                started_on=None if phase in (Phase.BIDDING, Phase.CONTRACT) else started,
                completed_on=completed,
                # A two-year warranty from the completion (R94): repairs after it are paid service.
                warranty_ends_on=completed + dt.timedelta(days=730) if completed else None,
                is_key=value > 100e6 or (grade == Grade.A and rng.random() < 0.3),
                created_at=created,
                updated_at=created,
            )
        )

    # Needs: none to four over the year, of every urgency (R11).
    for _ in range(rng.choices((0, 1, 2, 3, 4), weights=(2, 3, 3, 2, 1))[0]):
        category = rng.choices(list(NEED_TEXTS), weights=(3, 4, 2, 1))[0]
        urgency = rng.choices(URGENCIES, weights=(1, 2, 4))[0]
        days_ago = rng.randint(0, 340)
        received = office_moment(rng, today - dt.timedelta(days=days_ago))
        due, provisional = need_due(received, urgency)
        need = Need(
            client=client,
            category=category,
            origin=rng.choices((Need.Origin.INITIAL, Need.Origin.DERIVED), weights=(3, 1))[0],
            urgency=urgency,
            is_functional=category == Need.Category.PRODUCT or rng.random() < 0.4,
            source_channel=rng.choice(NEED_CHANNELS),
            description=rng.choice(NEED_TEXTS[category]),
            feasibility=rng.choice(("high", "medium", "low", "")),
            value_assessment=rng.choice(("high", "medium", "low", "")),
            owner=owner,
            received_at=received,
            response_due_at=due,
            due_provisional=provisional,
            created_at=received,
            updated_at=received,
        )
        if days_ago > 20 or (days_ago > 3 and rng.random() < 0.6):
            # Answered: most by their deadline, some late (R12 timeliness).
            responded = respond_moment(rng, received, due, late=rng.random() < 0.15)
            need.responded_at = responded
            need.response_note = rng.choice(NEED_RESPONSES)
            if days_ago > 45:
                need.status = rng.choices(
                    (Need.Status.DONE, Need.Status.REJECTED, Need.Status.IN_PROGRESS), weights=(7, 1, 2)
                )[0]
                if need.status != Need.Status.IN_PROGRESS:
                    need.closed_at = min(
                        responded + dt.timedelta(days=rng.randint(3, 40)),
                        timezone.now() - dt.timedelta(hours=1),
                    )
            else:
                need.status = rng.choice((Need.Status.ASSESSED, Need.Status.IN_PROGRESS))
            need.updated_at = need.closed_at or responded
        else:
            need.status = Need.Status.RECEIVED
        plan.needs.append(need)
    if plan.needs:
        client.needs_collected_on = timezone.localdate(max(n.received_at for n in plan.needs))

    # Visits over the last twelve months, more for A clients.
    contact_names = [c.name for c in plan.contacts]
    n_visits = {Grade.A: rng.randint(6, 12), Grade.B: rng.randint(2, 6), Grade.C: rng.randint(0, 3)}[grade]
    for _ in range(n_visits):
        at = office_moment(rng, today - dt.timedelta(days=rng.randint(1, 360)))
        channel = rng.choices([c.value for c in Visit.Channel], weights=(1, 1, 3, 5, 3, 8, 2))[0]
        plan.visits.append(
            Visit(
                client=client,
                visited_at=at,
                channel=channel,
                our_people=recorder(owner),
                our_level=rng.choice(("营销人员", "项目经理", "分公司领导")),
                client_people="、".join(
                    rng.sample(contact_names, k=min(len(contact_names), rng.randint(1, 2)))
                ),
                notes=rng.choice(VISIT_NOTES),
                outcome=rng.choice(VISIT_OUTCOMES),
                next_step=rng.choice(NEXT_STEPS),
                recorded_by=owner,
                created_at=at,
                updated_at=at,
            )
        )

    # Visit plans (R13): A clients by social value; some B clients at a frequency staff set.
    last_visit = max((v.visited_at for v in plan.visits), default=created)
    if grade == Grade.A:
        if client.social_value == SocialValue.HIGH:
            freq = rng.choice((VisitPlan.Frequency.DEKAD, VisitPlan.Frequency.MONTHLY))
            level = rng.choice((VisitPlan.VisitorLevel.GROUP_LEADER, VisitPlan.VisitorLevel.BRANCH_LEADER))
        else:
            freq = rng.choice((VisitPlan.Frequency.MONTHLY, VisitPlan.Frequency.QUARTERLY))
            level = VisitPlan.VisitorLevel.DEPT_MANAGER
        # R13: at least the visitor level the client's social value calls for, as the service
        # (visit_plan_rules) enforces. No draw of its own: the rest of the client stays the same.
        from .services import LEVEL_RANK, VISITOR_LEVEL_BY_SOCIAL_VALUE

        required = VISITOR_LEVEL_BY_SOCIAL_VALUE[client.social_value]
        level = max(level, required, key=LEVEL_RANK.__getitem__)
        plan.plan = VisitPlan(client=client, frequency=freq, visitor_level=level, responsible=owner)
    elif grade == Grade.B and rng.random() < 0.4:
        plan.plan = VisitPlan(
            client=client,
            frequency=rng.choice(
                (VisitPlan.Frequency.QUARTERLY, VisitPlan.Frequency.HALF_YEARLY, VisitPlan.Frequency.CUSTOM)
            ),
            visitor_level=VisitPlan.VisitorLevel.MARKETING_STAFF,
            responsible=owner,
        )
    elif grade == Grade.C and client.under_observation:
        plan.plan = VisitPlan(
            client=client,
            frequency=VisitPlan.Frequency.QUARTERLY,
            visitor_level=VisitPlan.VisitorLevel.MARKETING_STAFF,
            responsible=owner,
            extra_effort=True,
            notes="观察中客户,加大开发力度",
        )
    if plan.plan:
        vp = plan.plan
        if vp.frequency == VisitPlan.Frequency.CUSTOM:
            vp.interval_days = rng.choice((45, 60, 75))
        vp.next_due_on = timezone.localdate(last_visit) + dt.timedelta(days=vp.period_days)
        vp.created_at = vp.updated_at = created

    # Grade history (R7): the first grading, and for some a later re-grade with its reason.
    # Made by who may grade (the branch manager, group marketing at the half-year analysis),
    # each with the rules' suggestion and criteria from the facts of its time, and a reason.
    grader = grader or recorder.marketing
    regrader = recorder.marketing or grader
    first = grade
    if rng.random() < 0.35:
        first = rng.choice([g for g in (Grade.A, Grade.B, Grade.C) if g != grade])
    first_at = created + dt.timedelta(days=rng.randint(1, 20))
    first_facts = facts if first == grade else _grade_facts(rng, first)
    suggested, criteria = grading_suggestion(first_facts, len(plan.projects))
    plan.grades.append(
        GradeChange(
            client=client,
            from_grade="",
            to_grade=first,
            suggested_grade=suggested,
            criteria=criteria,
            reason=grading_reason(first, suggested),
            changed_by=grader,
            changed_at=first_at,
            created_at=first_at,
            updated_at=first_at,
        )
    )
    if first != grade:
        at = first_at + dt.timedelta(days=rng.randint(60, 180))
        client.graded_at = at
        suggested, criteria = grading_suggestion(facts, len(plan.projects))
        plan.grades.append(
            GradeChange(
                client=client,
                from_grade=first,
                to_grade=grade,
                suggested_grade=suggested,
                criteria=criteria,
                reason=rng.choice(GRADE_REASONS[grade]) + "(半年客户分析后调整)",
                changed_by=regrader,
                changed_at=at,
                created_at=at,
                updated_at=at,
            )
        )
    else:
        client.graded_at = first_at

    # Stage history (R6): each step from potential up to the current stage.
    steps = STAGES[: STAGES.index(stage) + 1]
    at = created
    for prev, nxt in zip(steps, steps[1:], strict=False):
        at = at + dt.timedelta(days=rng.randint(10, 50))
        if at > now:
            at = now - dt.timedelta(days=1)
        plan.stages.append(
            StageChange(
                client=client,
                from_stage=prev,
                to_stage=nxt,
                note=STAGE_NOTES[nxt],
                changed_by=owner,
                changed_at=at,
                created_at=at,
                updated_at=at,
            )
        )

    tags = []
    if kind.code in ("platform", "government"):
        tags.append("政府平台")
    if kind.code == "hospital":
        tags.append("医疗卫生")
    if kind.code == "school":
        tags.append("教育系统")
    if grade == Grade.A and rng.random() < 0.6:
        tags.append("长期合作")
    if any(p.is_key for p in plan.projects):
        tags.append("重点工程")
    if client.under_observation:
        tags.append("观察客户")
    plan.tags = tags
    return plan


class _Recorder:
    """Our people on a visit: the owner, sometimes with a colleague."""

    def __init__(self, rng, colleagues, marketing):
        self.rng = rng
        self.colleagues = colleagues
        self.marketing = marketing

    def __call__(self, owner) -> str:
        names = [owner.display_name]
        others = [u for u in self.colleagues if u.pk != owner.pk]
        if others and self.rng.random() < 0.5:
            names.append(self.rng.choice(others).display_name)
        return "、".join(names)


def save_plans(plans: list[Plan], *, with_history: bool = True, batch_size: int = 1000) -> dict[str, int]:
    """Insert planned clients and everything that hangs off them, in bulk."""
    clients = [p.client for p in plans]
    for p in plans:  # bulk_create skips save(), which derives it
        p.client.search_text = compose_search_text(
            p.client.name, p.client.phone_normalized, [(c.name, c.phone_normalized) for c in p.contacts]
        )
    with keep_timestamps(Client, Contact, Project, Need, Visit, VisitPlan, GradeChange, StageChange):
        if with_history:
            bulk_create_with_history(clients, Client, batch_size=batch_size)
            if any(c.pk is None for c in clients):  # backends that return no ids
                by_code = dict(
                    Client.objects.filter(credit_code__in=[c.credit_code for c in clients]).values_list(
                        "credit_code", "pk"
                    )
                )
                for c in clients:
                    c.pk = by_code[c.credit_code]
        else:
            Client.objects.bulk_create(clients, batch_size=batch_size)
        rows = {"clients": len(clients)}
        for label, model, attr in (
            ("contacts", Contact, "contacts"),
            ("projects", Project, "projects"),
            ("needs", Need, "needs"),
            ("visits", Visit, "visits"),
            ("grade changes", GradeChange, "grades"),
            ("stage changes", StageChange, "stages"),
        ):
            objs = []
            for p in plans:
                for obj in getattr(p, attr):
                    obj.client_id = p.client.pk
                    objs.append(obj)
            model.objects.bulk_create(objs, batch_size=batch_size)
            rows[label] = len(objs)
        vps = []
        for p in plans:
            if p.plan:
                p.plan.client_id = p.client.pk
                vps.append(p.plan)
        VisitPlan.objects.bulk_create(vps, batch_size=batch_size)
        rows["visit plans"] = len(vps)
        if with_history and vps:
            # The demo's visits made since a plan began count against it (R13: visits done
            # against the plans due, in the monthly report): one statement, no per-plan query.
            from django.db.models import OuterRef, Subquery

            Visit.objects.filter(client_id__in=[vp.client_id for vp in vps], plan__isnull=True).update(
                plan=Subquery(
                    VisitPlan.objects.filter(
                        client=OuterRef("client"), created_at__lte=OuterRef("visited_at")
                    ).values("pk")[:1]
                )
            )
    tag_ids = {t.name: t.pk for t in Tag.objects.filter(name__in=TAGS)}
    through = Client.tags.through
    through.objects.bulk_create(
        [through(client_id=p.client.pk, tag_id=tag_ids[t]) for p in plans for t in p.tags if t in tag_ids],
        batch_size=batch_size,
    )
    return rows


@transaction.atomic
def seed(org) -> str:
    """A year of demo data for every branch of ``org`` (crm.seed.Org). Idempotent."""
    for name in TAGS:
        Tag.objects.get_or_create(name=name)
    now = timezone.now()
    marketing = org.users.get("marketing")
    taken = set(Client.objects.values_list("name_normalized", flat=True))
    existing_codes = set(Client.objects.exclude(credit_code="").values_list("credit_code", flat=True))
    plans: list[Plan] = []
    skipped = 0
    planned_names: set[str] = set()  # names planned in this run, across branches: re-drawn, not lost
    for code, count in BRANCH_CLIENT_COUNTS.items():
        branch = org.branches.get(code)
        if branch is None:
            continue
        if code == "hq":
            owners = [u for u in (marketing,) if u]
        else:
            owners = [
                u
                for key in (f"{code}_staff", f"{code}_staff", f"{code}_manager")
                if (u := org.users.get(key))
            ]
        if not owners:
            continue
        departments = [d for (b, _), d in org.departments.items() if b == code]
        recorder = _Recorder(None, list(set(owners)), marketing)  # each client sets its own rng
        grader = org.users.get(f"{code}_manager") or marketing  # R7: who may grade the branch
        cities = [CITIES[c] for c in BRANCH_CITIES[code]]
        # Each client draws from a stream of its own (seeded by branch and number), so what one
        # client's dates consume (they follow today and the calendar) cannot shift the next
        # client's name or grade: the branch has the same clients whatever day it is seeded on.
        made = 0
        for number in range(count * 3):
            if made == count:
                break
            client_rng = random.Random(f"clients-demo-{code}-{number}")
            recorder.rng = client_rng
            plan = plan_client(
                client_rng,
                branch=branch,
                departments=departments,
                owners=owners,
                city=client_rng.choice(cities),
                now=now,
                taken=planned_names,
                recorder=recorder,
                grader=grader,
            )
            if plan is None:
                continue
            made += 1
            c = plan.client
            if c.credit_code in existing_codes or c.name_normalized in taken:
                skipped += 1
                continue
            taken.add(c.name_normalized)
            existing_codes.add(c.credit_code)
            plans.append(plan)
    rows = save_plans(plans)
    made = ", ".join(f"{n} {label}" for label, n in rows.items())
    return (
        f"{made}; {skipped} already there; {seed_give_ups(org)}; {seed_cultivation(org)}; "
        f"{seed_need_care(org)}; {seed_project_fees(org)}; {seed_need_checks(org)}; {seed_attachments(org)}"
    )


def seed_need_checks(org) -> str:
    """R71-R73 in the demo (clients.tracking.seed): the past weeks' tracking checks."""
    from .tracking.seed import seed_need_checks as seed_checks

    return seed_checks(org)


# R37-R40 in the demo: two C clients of the east branch given up for their poor reputation
# (proposed by east_staff, confirmed by east_manager), and one proposal awaiting east_manager.
DEMO_GIVE_UPS = (
    ("poor_reputation", "多次拖欠分包工程款,业内口碑差,近两年无新项目合作。", "同意,停止主动拜访。"),
    ("poor_reputation", "项目结算屡次拖延,并有不良诚信记录,继续跟踪投入产出不成比例。", "同意放弃跟踪。"),
    ("company_problems", "企业资金链紧张,近期涉及多起诉讼,建议放弃跟踪。", None),
)


def seed_give_ups(org) -> str:
    """The demo's give-ups, through the workflow's own services (so every step is in the history
    and the rules hold: grade C, poor reputation recorded, no active visit plan). Idempotent: a
    branch that has any give-up is left as it is."""
    from .giveups import services as give_ups
    from .models import GiveUp, Tracking

    branch, staff, manager = (
        org.branches.get("east"),
        org.users.get("east_staff"),
        org.users.get("east_manager"),
    )
    if branch is None or staff is None or manager is None:
        return "no give-ups (no east branch)"
    if GiveUp.objects.filter(client__branch=branch).exists():
        return "give-ups already there"
    # The C clients whose facts already say poor reputation come first, then by name.
    candidates = list(
        Client.objects.filter(branch=branch, grade=Grade.C, tracking=Tracking.ACTIVE).order_by(
            "-poor_reputation", "name", "pk"
        )[: len(DEMO_GIVE_UPS)]
    )
    made = 0
    for client, (reason, note, confirmation) in zip(candidates, DEMO_GIVE_UPS, strict=False):
        give_up = give_ups.giveup_propose(client=client, by=staff, reason=reason, note=note)
        if confirmation is not None:
            give_ups.giveup_confirm(give_up=give_up, by=manager, note=confirmation)
        made += 1
    return f"{made} give-ups"


# R42-R46 in the demo: east B clients with cultivation plans (one reviewed, one awaiting its first
# review) and one promoted to A through the half-year evaluation (which ends its plan).
DEMO_PLANS = (
    (
        "年内签订第二个设计合同,并建立与客户分管领导的定期沟通,达到A类客户条件。",
        (("每月上门拜访一次,跟踪新项目立项情况", 20, "east_staff"),
         ("组织一次技术交流会,介绍装配式建筑和BIM设计经验", 45, "east_manager")),
        "已完成两次上门拜访,客户透露明年有两个住宅项目立项,邀请我方参加方案比选。",
    ),
    (
        "提升合作深度:由单项施工扩展到设计施工总承包,提高项目利润率。",
        (("整理过往合作项目的质量和工期记录,向客户汇报", 30, "east_staff"),),
        None,
    ),
    (
        "巩固合作关系,争取成为客户的战略合作单位。",
        (("邀请客户考察我方在建项目", 15, "east_manager"),),
        "客户已签订新的设计施工总承包合同,诚信良好,近期合作需求明确。",
    ),
)  # fmt: skip


def seed_cultivation(org) -> str:
    """The demo's cultivation plans and an evaluation, through the workflow's own services (every
    step in the history, the rules kept: B clients only, owners of the branch, the promotion a
    grade change of the grading trail with its reason). Idempotent: a branch that has any plan is
    left as it is."""
    from .cultivation import services as cultivation
    from .models import CultivationPlan, Tracking, VisitPlan
    from .services import visit_plan_save

    branch, manager = org.branches.get("east"), org.users.get("east_manager")
    if branch is None or manager is None or org.users.get("east_staff") is None:
        return "no cultivation plans (no east branch)"
    if CultivationPlan.objects.filter(client__branch=branch).exists():
        return "cultivation plans already there"
    today = timezone.localdate()
    # B clients with an active visit plan (so that the promoted one keeps a plan, R13), by name.
    candidates = list(
        Client.objects.filter(
            branch=branch, grade=Grade.B, tracking=Tracking.ACTIVE, visit_plan__is_active=True
        ).order_by("name", "pk")[: len(DEMO_PLANS)]
    )
    made = 0
    for number, (client, (goal, measures, progress)) in enumerate(zip(candidates, DEMO_PLANS, strict=False)):
        staff = org.users["east_staff"]
        plan = cultivation.cultivation_propose(
            client=client,
            by=staff,
            goal=goal,
            measures=[
                {"description": text, "due_on": today + dt.timedelta(days=days), "owner": org.users[owner].pk}
                for text, days, owner in measures
            ],
            next_review_on=today + dt.timedelta(days=30),
        )
        made += 1
        if progress is not None:
            cultivation.cultivation_review(
                plan=plan,
                by=manager,
                reviewed_on=today,
                note=progress,
                done=[plan.measures.order_by("pk").first().pk],
                next_review_on=today + dt.timedelta(days=60),
            )
        if number == 2:  # the third is promoted through the half-year evaluation (R46)
            cultivation.b_evaluation_record(client=client, by=manager, outcome="promote", reason=progress)
            if not VisitPlan.objects.filter(client=client, is_active=True).exists():
                visit_plan_save(
                    plan=VisitPlan(
                        client=client, frequency="monthly", next_due_on=today + dt.timedelta(days=10)
                    ),
                    by=manager,
                )
    return f"{made} cultivation plans"


# R48 in the demo: done needs whose handling the clients rated, by branch: (rating, comment,
# respondent, through the link?). One of east's is rated through the personal link.
DEMO_RATINGS = {
    "east": (
        ("satisfied", "方案调整及时,现场配合到位。", "王经理", False),
        ("basically_satisfied", "问题已解决,但答复比约定晚了一天。", "", False),
        ("satisfied", "感谢贵司的快速响应。", "陈工", True),
    ),
    "south": (
        ("unsatisfied", "整改反复两次才达到要求,希望加强过程沟通。", "刘总", False),
        ("satisfied", "", "", False),
    ),
}


def seed_need_care(org) -> str:
    """The demo's need care, through the services (each step in the history, the rules hold):
    done needs rated by their clients (R48, one through the link). Idempotent: a branch with a
    rated need is left as it is."""
    from .needcare import services as care

    rated = 0
    for code, ratings in DEMO_RATINGS.items():
        branch, staff = org.branches.get(code), org.users.get(f"{code}_staff")
        if branch is None or staff is None:
            continue
        if Need.objects.filter(client__branch=branch).exclude(rating="").exists():
            continue
        done = list(
            Need.objects.filter(client__branch=branch, status=Need.Status.DONE, rating="").order_by(
                "-closed_at", "pk"
            )[: len(ratings)]
        )
        for need, (rating, comment, respondent, by_link) in zip(done, ratings, strict=False):
            if by_link:
                _need, url = care.need_rating_link(need=need, by=staff)
                token = url.rstrip("/").rsplit("/", 1)[1]
                care.need_rate_public(token=token, rating=rating, comment=comment, respondent=respondent)
            else:
                care.need_rate(need=need, by=staff, rating=rating, comment=comment, respondent=respondent)
            rated += 1
    return f"{rated} need ratings; {seed_need_integration(org)}"


# R51-R53 in the demo: in east, a need recorded twice (the second merged into the first) and a
# pair still waiting on the list of likely duplicates; in south, two needs marked as contradicting.
DEMO_REPEATS = ("(客户再次来电提出)", "(项目例会上再次提出)")


def seed_need_integration(org) -> str:
    """Through the services, like the rest. Idempotent: nothing is added once east has a merged
    need."""
    from . import services
    from .needcare import services as care

    east, staff = org.branches.get("east"), org.users.get("east_staff")
    if east is None or staff is None or Need.objects.filter(status=Need.Status.MERGED).exists():
        return "need integration already there"
    originals = list(
        Need.objects.filter(client__branch=east, status__in=Need.OPEN)
        .order_by("client__name", "received_at", "pk")
        .distinct()[:20]
    )
    made, used = [], set()
    for need in originals:
        if need.client_id in used or len(made) == len(DEMO_REPEATS):
            continue
        used.add(need.client_id)
        again = Need(
            client=need.client,
            project=need.project,
            category=need.category,
            origin=need.origin,
            urgency=need.urgency,
            source_channel="电话",
            description=need.description + DEMO_REPEATS[len(made)],
            owner=staff,
            # Raised again at the same meeting: the client's collection date stays as it was.
            received_at=need.received_at,
        )
        made.append((need, services.need_create(need=again, by=staff)))
    if made:
        original, duplicate = made[0]
        care.need_merge(duplicate=duplicate, into=original, by=staff, note="同一需求重复登记")
    south, south_staff = org.branches.get("south"), org.users.get("south_staff")
    marked = 0
    if south is not None and south_staff is not None:
        pair = None
        for client in (
            Client.objects.filter(branch=south, needs__status__in=Need.OPEN).distinct().order_by("name")[:30]
        ):
            needs = list(client.needs.exclude(status=Need.Status.MERGED).order_by("received_at", "pk")[:2])
            if len(needs) == 2:
                pair = needs
                break
        if pair:
            care.need_mark_conflict(
                need=pair[0],
                other=pair[1],
                by=south_staff,
                note="两项要求在工期与造价上相互制约,需与客户确认优先次序。",
            )
            marked = 1
    return f"{len(made)} repeated needs (1 merged), {marked} contradiction"


# R56-R60 in the demo (seed 000): east projects with design fees: one completed and collected in
# full (settled), one completed with part collected (on the unsettled list), one completed and
# settled by agreement by east_manager, and two under construction with an advance collected and
# on-site service records (one solved, one being handled).
DEMO_SITE_SERVICES = (
    ("张工、李工(结构)", "地下室底板后浇带位置与施工单位现场排布冲突,施工方要求调整。",
     "结构专业现场复核后出具设计变更通知单,后浇带位置东移1.5米,当日交底。", "施工单位按变更施工,未影响工期。"),
    ("王工(给排水)", "五层卫生间排水立管与梁位碰撞,现场无法按图安装。",
     "", ""),
    ("赵工(建筑)", "外立面幕墙预埋件部分漏埋,施工方询问补救做法。",
     "建议采用后置化学锚栓,附节点大样,由幕墙单位复核荷载。", "补救方案已由监理确认。"),
)  # fmt: skip


def seed_project_fees(org) -> str:
    """The demo's design fees and on-site service records of the east branch, through the
    services (so every step is in the history and the rules hold). Idempotent: a branch with
    any collection is left as it is."""
    from decimal import ROUND_HALF_UP

    from .models import FeeCollection, Project, SiteService
    from .projects import services as fees
    from .services import project_save

    branch, staff, manager = (
        org.branches.get("east"),
        org.users.get("east_staff"),
        org.users.get("east_manager"),
    )
    if branch is None or staff is None or manager is None:
        return "no design fees (no east branch)"
    if FeeCollection.objects.filter(project__branch=branch).exists():
        return "design fees already there"
    today = timezone.localdate()

    def fee_of(project) -> Decimal:
        fee = (project.contract_value * Decimal("0.025") / 1000).quantize(Decimal("1"), ROUND_HALF_UP) * 1000
        return max(fee, Decimal("50000"))

    def set_fee(project):
        project.design_fee = fee_of(project)
        project_save(project=project, by=manager)
        return project

    def day_after(project, days_back: int):
        first = project.signed_on or (today - dt.timedelta(days=400))
        return max(first, today - dt.timedelta(days=days_back))

    base = Project.objects.filter(branch=branch, design_fee=0).order_by("signed_on", "pk")
    completed = list(base.filter(completed_on__isnull=False, completed_on__lt=today)[:3])
    building = list(
        base.filter(phase="construction", started_on__isnull=False, started_on__lt=today).order_by(
            "-signed_on"
        )[:2]
    )
    made = {"fees": 0, "collections": 0, "site services": 0}
    for i, project in enumerate(completed):
        set_fee(project)
        made["fees"] += 1
        fee = project.design_fee
        first = (fee * Decimal("0.6")).quantize(Decimal("1"))
        fees.fee_collection_record(
            project=project, by=staff, amount=first, collected_on=day_after(project, 200), note="设计费首期款"
        )
        made["collections"] += 1
        if i == 0:  # collected in full: settled by collection
            fees.fee_collection_record(
                project=project,
                by=staff,
                amount=fee - first,
                collected_on=day_after(project, 30),
                note="设计费尾款",
            )
            made["collections"] += 1
        elif i == 2:  # the rest agreed with the client
            fees.project_settle(
                project=project,
                by=manager,
                note="经与甲方协商,余款因设计变更增项与结算审减相抵,双方确认结清,保持良好合作关系。",
            )
    for j, project in enumerate(building):
        set_fee(project)
        made["fees"] += 1
        fees.fee_collection_record(
            project=project,
            by=staff,
            amount=(project.design_fee * Decimal("0.3")).quantize(Decimal("1")),
            collected_on=day_after(project, 120),
            note="设计费预付款",
        )
        made["collections"] += 1
        for k, (people, problem, handling, outcome) in enumerate(DEMO_SITE_SERVICES[j * 2 : j * 2 + 2]):
            served = max(project.started_on, today - dt.timedelta(days=40 - 15 * k))
            fees.site_service_save(
                service=SiteService(
                    project=project,
                    served_on=served,
                    our_people=people,
                    problem=problem,
                    handling=handling,
                    outcome=outcome,
                    status=SiteService.Status.CLOSED if handling else SiteService.Status.OPEN,
                    closed_on=served if handling else None,
                ),
                by=staff,
            )
            made["site services"] += 1
    return ", ".join(f"{n} {label}" for label, n in made.items())


# R61-R64 in the demo (seed 003, 收集记录: «对客户沟通、市场调研等过程中的重要信息进行录音、录像或文字
# 记录,并妥善保存»): east's and south's latest open needs carry the typed record of the call and the
# client's letter; their latest visits a site photo and the recording of the talk.
DEMO_CALL_RECORD = (
    "电话沟通记录",
    "客户提出:{need}",
    "我方答复:已记录需求,将在响应期限内给出详细方案。",
    "下一步:安排设计负责人与客户技术部门对接,核实现场条件。",
)
DEMO_LETTER = ("客户来函", "致贵公司:", "关于{client}项目的需求,请贵方尽快研究并回复处理意见。", "此致 敬礼")


def seed_attachments(org) -> str:
    """The demo's attachments, through the service (so the rules hold and each upload is in the
    history), small files made in code (crm.attachments.samples). Idempotent: nothing is added
    once any need or visit has an attachment."""
    from django.core.files.base import ContentFile

    from crm.attachments import samples
    from crm.attachments.services import attachment_add

    from .models import NeedAttachment, VisitAttachment

    if NeedAttachment.objects.exists() or VisitAttachment.objects.exists():
        return "attachments already there"
    made = 0
    for code in ("east", "south"):
        branch, staff = org.branches.get(code), org.users.get(f"{code}_staff")
        if branch is None or staff is None:
            continue
        needs = list(
            Need.objects.filter(client__branch=branch, status__in=Need.OPEN)
            .select_related("client")
            .order_by("-received_at", "pk")[:2]
        )
        for i, need in enumerate(needs):
            if i == 0:
                title, *lines = DEMO_CALL_RECORD
                body = samples.text_record(title, [line.format(need=need.description[:60]) for line in lines])
                upload, note = ContentFile(body, name="需求电话沟通记录.txt"), "电话沟通后整理的文字记录"
            else:
                title, *lines = DEMO_LETTER
                body = samples.pdf_document(title, [line.format(client=need.client.name) for line in lines])
                upload, note = ContentFile(body, name="客户来函.pdf"), "客户书面提出的需求"
            attachment_add(model=NeedAttachment, parent=need, upload=upload, by=staff, note=note)
            made += 1
        visits = list(Visit.objects.filter(client__branch=branch).order_by("-visited_at", "pk")[:2])
        for i, visit in enumerate(visits):
            if i == 0:
                upload = ContentFile(samples.png_picture(variant=len(code) % 3), name="现场照片.png")
                note = "拜访时拍摄的项目现场"
            else:
                upload, note = ContentFile(samples.wav_tone(), name="座谈录音.wav"), "经客户同意录音"
            attachment_add(model=VisitAttachment, parent=visit, upload=upload, by=staff, note=note)
            made += 1
    return f"{made} attachments"
