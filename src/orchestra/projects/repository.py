"""Projects are found by id or by a name unique within the tenant, and listed by name."""

from __future__ import annotations

from orchestra.kit.repository import TenantScoped
from orchestra.models import Project

_projects = TenantScoped(Project, Project.id, Project.name, (Project.tenant_id,))

find = _projects.find
find_by_name = _projects.find_by_name
list_page = _projects.page
