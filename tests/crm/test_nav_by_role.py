"""The navigation shows what the user's role can do, and nothing else (design.md): each entry is
shown by the same check its page makes, so every entry a role sees opens (200) and every page
whose entry is hidden refuses the role (403). In particular 接口文档 only to holders of a role,
调查模板 not to staff, 拜访计划 (the overdue visits of R13) not to leaders and auditors."""

import re

import pytest
from django.urls import reverse

from clients.selectors import may_list_overdue_visits
from crm.api.views import may_use_api
from surveys.models import may_browse_templates

ROLES = ["admin", "marketing", "leader", "auditor", "east_manager", "east_staff", "norole"]

# The three entries that had no check of their own, with the roles that see them.
ENTRIES = {
    "接口文档": ("api-docs", {"admin", "marketing", "leader", "auditor", "east_manager", "east_staff"}),
    "调查模板": ("surveys:template-list", {"admin", "marketing", "leader", "auditor", "east_manager"}),
    "拜访计划": ("clients:visit-overdue-list", {"admin", "marketing", "east_manager", "east_staff"}),
}


def _nav(web) -> dict[str, str]:
    html = web.get(reverse("home")).content.decode()
    nav = html.split('id="crm-nav"', 1)[1].split("</nav>", 1)[0]
    return {
        label.strip(): href
        for href, label in re.findall(
            r'<a class="nav-link[^"]*" href="([^"]+)"><i [^>]*></i>([^<]+)</a>', nav
        )
    }


@pytest.mark.parametrize("username", ROLES)
def test_predicates_follow_the_roles(org, username):
    user = org[username]
    assert may_use_api(user) == (username in ENTRIES["接口文档"][1])
    assert may_browse_templates(user) == (username in ENTRIES["调查模板"][1])
    assert may_list_overdue_visits(user) == (username in ENTRIES["拜访计划"][1])


@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_only_the_entries_it_can_open(org, username):
    web = org.web(username)
    nav = _nav(web)
    for label, (route, roles) in ENTRIES.items():
        url = reverse(route)
        if username in roles:
            assert nav.get(label) == url, (username, label)
            assert web.get(url).status_code == 200, (username, label)
        else:
            assert label not in nav, (username, label)
            assert web.get(url).status_code == 403, (username, label)
    for label, href in nav.items():
        # An entry may lead through a redirect (本期月度报表 opens this period's report).
        assert web.get(href, follow=True).status_code == 200, (username, label, href)
