"""ORM models, one module per aggregate. Importing this package registers every table on Base.metadata."""

from orchestra.models.api_spec import ApiSpec
from orchestra.models.base import Base
from orchestra.models.dataplan import StoredDataPlan
from orchestra.models.environment import Environment
from orchestra.models.failure_group import FailureGroup
from orchestra.models.ledger import LedgerEntry
from orchestra.models.limits import EnvironmentRateSlot, PlatformLimits
from orchestra.models.project import Project
from orchestra.models.quarantine import TestMute
from orchestra.models.rag import RagChunk, RagDocument
from orchestra.models.retention import RetentionPolicy, RunVerdict
from orchestra.models.rollup import FlakinessDay, OperationBacklog, OperationDay, StepFlakinessDay, TrendDay
from orchestra.models.run import StepResult, SuiteRun, TestRun
from orchestra.models.schedule import Schedule, ScheduleFire
from orchestra.models.security import ApiToken, AuditEvent
from orchestra.models.suite import Suite
from orchestra.models.tenant import Tenant, TenantContextKey
from orchestra.models.testcase import TestCase, TestCaseVersion
from orchestra.models.webhook import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "ApiSpec",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Environment",
    "EnvironmentRateSlot",
    "FailureGroup",
    "FlakinessDay",
    "LedgerEntry",
    "OperationBacklog",
    "OperationDay",
    "PlatformLimits",
    "Project",
    "RagChunk",
    "RagDocument",
    "RetentionPolicy",
    "RunVerdict",
    "Schedule",
    "ScheduleFire",
    "StepFlakinessDay",
    "StepResult",
    "StoredDataPlan",
    "Suite",
    "SuiteRun",
    "Tenant",
    "TenantContextKey",
    "TestCase",
    "TestCaseVersion",
    "TestMute",
    "TestRun",
    "TrendDay",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
