"""A list page with tabs by status (待确认 / 进行中 / 全部 ...): what the tabbed lists of workflow
records share. The tab picks the statuses, the filter set narrows, the sort orders (newest last
as a tie-break), and ``?export=xlsx`` answers exactly the rows the list shows, in its order
(R36); otherwise the page of rows is rendered with the list's own template."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

PAGE_SIZE = 25


def tabbed_list(
    request: HttpRequest,
    *,
    template: str,
    rows: QuerySet,
    tabs: Mapping[str, tuple[Any, Sequence[str] | None]],
    default_tab: str,
    filterset: type,
    sorts: Mapping[str, str],
    default_sort: str,
    export: Callable[[QuerySet, Any], HttpResponse],
    context: Mapping[str, Any] | None = None,
    page_size: int = PAGE_SIZE,
) -> HttpResponse:
    """``rows`` is already restricted to what the user may view; ``tabs`` maps a tab's key to
    its title and the statuses it shows (None: every row)."""
    tab = request.GET.get("tab", default_tab)
    if tab not in tabs:
        tab = default_tab
    title, statuses = tabs[tab]
    if statuses:
        rows = rows.filter(status__in=statuses)
    flt = filterset(request.GET or None, queryset=rows, request=request)
    rows = flt.qs if flt.is_bound and flt.is_valid() else rows
    sort = request.GET.get("sort", default_sort)
    rows = rows.order_by(sorts.get(sort, sorts[default_sort]), "-pk")
    if request.GET.get("export") == "xlsx":
        return export(rows, title)
    return render(
        request,
        template,
        {
            "page": Paginator(rows, page_size).get_page(request.GET.get("page")),
            "filter": flt,
            "sort": sort,
            "tab": tab,
            "tabs": [(key, label) for key, (label, _statuses) in tabs.items()],
            "title": title,
            **(context or {}),
        },
    )
