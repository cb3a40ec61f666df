"""ORM models, one module per aggregate. Importing this package registers every table on Base.metadata."""

from orchestra.models.base import Base
from orchestra.models.environment import Environment
from orchestra.models.limits import EnvironmentRateSlot, PlatformLimits
from orchestra.models.project import Project
from orchestra.models.run import StepResult, SuiteRun, TestRun
from orchestra.models.schedule import Schedule, ScheduleFire
from orchestra.models.security import ApiToken, AuditEvent
from orchestra.models.suite import Suite
from orchestra.models.tenant import Tenant
from orchestra.models.testcase import TestCase, TestCaseVersion

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "Environment",
    "EnvironmentRateSlot",
    "PlatformLimits",
    "Project",
    "Schedule",
    "ScheduleFire",
    "StepResult",
    "Suite",
    "SuiteRun",
    "Tenant",
    "TestCase",
    "TestCaseVersion",
    "TestRun",
]
