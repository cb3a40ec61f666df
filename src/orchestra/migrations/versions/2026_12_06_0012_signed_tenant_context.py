"""a signed tenant context: SQL alone cannot switch tenants; project scope on every project's table

Until this revision the policies trusted ``orchestra.tenant_id`` and ``orchestra.project_id``, which any
statement may set with ``set_config``: an SQL injection as ``orchestra_app`` could read any tenant whose id
it knew (ids are in every API token). Now:

- ``tenant_context_key`` holds the inner and outer HMAC-SHA256 pads of the application's context key
  (orchestra/tenant_context.py). Only ``orchestra_system`` may read it; the owner writes it when it
  migrates (orchestra/migrate.py), from the secret key every service shares.
- ``orchestra_enter(tenant, project, proof, whole_session)`` (``orchestra_system``, SECURITY DEFINER)
  accepts ``proof`` only when it is ``HMAC(key, 'enter/<tenant>/<project>')`` and sets
  ``orchestra.context`` to ``<tenant>/<project>/<backend pid>/<binding>/<mac>``: bound to this backend and
  to this transaction's start (``now()``), or, with ``whole_session``, to this backend's session (the
  executor's connection held for one run, reset when released). The mac is the key's HMAC of the rest.
- ``orchestra_verified_context()`` checks that value; ``orchestra_tenant()`` and
  ``orchestra_project_scope()``, which the policies call, read only what it verified. A forged, altered or
  replayed value is no tenant (no rows), as an empty one: not an error, which a value planted in a pooled
  session would raise in the next transaction of another tenant that enters none.
- Every ``tenant_isolation`` policy calls them once per statement (``(SELECT orchestra_tenant())``, an
  InitPlan), not once per row, and holds project scope too: through the row's project column, or, for
  ``step_results``, ``test_case_versions``, ``schedule_fires`` and ``environment_rate_slots``, through the
  row's parent, whose own policy applies inside the policy's sub-query. The policies are rebuilt from the
  catalogue, so every table with a ``tenant_isolation`` policy is covered; a table this revision does not
  know how to scope to a project stops the upgrade.
- ``TEMPORARY`` on the database is revoked from PUBLIC: a temporary table named like one of ours would
  shadow it for the rest of a pooled connection's life, and catch the next tenant's rows. (orchestra/
  migrate.py revokes it again after every migration: a copied or restored database has PUBLIC's default.)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Tables without a project column, scoped through the parent row (its policy applies in the sub-query).
PROJECT_PARENT = {
    "step_results": ("test_run_id", "test_runs"),
    "test_case_versions": ("test_case_id", "test_cases"),
    "schedule_fires": ("schedule_id", "schedules"),
    "environment_rate_slots": ("environment_id", "environments"),
}

_MAC = "sha256(k.outer_pad || sha256(k.inner_pad || convert_to({message}, 'UTF8')))"
_SYSTEM_FUNCTION = "SECURITY DEFINER SET search_path = pg_catalog, public"

_ENTER = "orchestra_enter(tenant uuid, project uuid, proof bytea, whole_session boolean)"
_ENTER_BODY = f"""
    RETURNS void LANGUAGE plpgsql VOLATILE {_SYSTEM_FUNCTION} AS $$
    DECLARE
        k record;
        claim text := tenant::text || '/' || coalesce(project::text, '');
        bound text;
    BEGIN
        SELECT inner_pad, outer_pad INTO k FROM tenant_context_key;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no tenant context key is registered in this database'
                USING ERRCODE = '42501', HINT = 'run orchestra migrate with the services'' secret key';
        END IF;
        IF tenant IS NULL OR proof IS NULL
           OR sha256(proof) <> sha256({_MAC.format(message="'enter/' || claim")}) THEN
            RAISE EXCEPTION 'tenant context refused: the proof is not the registered key''s'
                USING ERRCODE = '42501';
        END IF;
        bound := claim || '/' || pg_backend_pid() || '/'
            || CASE WHEN whole_session THEN 'session' ELSE extract(epoch FROM now())::text END;
        PERFORM set_config('orchestra.context',
            bound || '/' || encode({_MAC.format(message="'context/' || bound")}, 'hex'), NOT whole_session);
    END $$"""

_VERIFIED = "orchestra_verified_context()"
_VERIFIED_BODY = f"""
    RETURNS text[] LANGUAGE plpgsql STABLE {_SYSTEM_FUNCTION} AS $$
    DECLARE
        raw text := current_setting('orchestra.context', true);
        part text[];
        k record;
    BEGIN
        IF raw IS NULL OR raw = '' THEN
            RETURN NULL;
        END IF;
        part := string_to_array(raw, '/');
        -- not entered by this backend and transaction (or session): no tenant
        IF cardinality(part) <> 5 OR part[3] <> pg_backend_pid()::text
           OR part[4] NOT IN ('session', extract(epoch FROM now())::text) OR part[5] !~ '^[0-9a-f]{{64}}$' THEN
            RETURN NULL;
        END IF;
        SELECT inner_pad, outer_pad INTO k FROM tenant_context_key;
        -- forged or altered: no tenant either (an error would let a value planted in a pooled session
        -- break the next transaction that enters no tenant)
        IF NOT FOUND OR sha256(decode(part[5], 'hex'))
           <> sha256({_MAC.format(message="'context/' || array_to_string(part[1:4], '/')")}) THEN
            RETURN NULL;
        END IF;
        RETURN part[1:2];
    END $$"""

_TENANT_BODY = "SELECT (orchestra_verified_context())[1]::uuid"
_PROJECT_BODY = "SELECT nullif((orchestra_verified_context())[2], '')::uuid"
_OLD_TENANT_BODY = "SELECT nullif(current_setting('orchestra.tenant_id', true), '')::uuid"
_OLD_PROJECT_BODY = "SELECT nullif(current_setting('orchestra.project_id', true), '')::uuid"

_POLICY_TABLES = sa.text(
    "SELECT tablename FROM pg_policies WHERE schemaname = current_schema() AND policyname = 'tenant_isolation'"
    " ORDER BY tablename"
)
_COLUMNS = sa.text(
    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
    " AND table_name = :t"
)


def _project_column(table: str, columns: set[str]) -> str | None:
    if table == "projects":
        return "id"
    return "project_id" if "project_id" in columns else None


def _visible(table: str, columns: set[str]) -> str:
    """The rows of the verified tenant, and of its project when the context has a project scope."""
    if table == "tenants":
        return "id = (SELECT orchestra_tenant())"
    column = _project_column(table, columns)
    if column is not None:
        in_project = f"{column} = (SELECT orchestra_project_scope())"
    elif table in PROJECT_PARENT:
        key, parent = PROJECT_PARENT[table]
        in_project = f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{key})"
    else:
        raise RuntimeError(f"{table} has no project column and no parent this migration knows: scope it")
    return (
        f"tenant_id = (SELECT orchestra_tenant()) AND "
        f"((SELECT orchestra_project_scope()) IS NULL OR {in_project})"
    )


def _old_visible(table: str, columns: set[str]) -> str:
    if table == "tenants":
        return "id = orchestra_tenant()"
    column = _project_column(table, columns)
    visible = "tenant_id = orchestra_tenant()"
    if column is not None:
        visible += f" AND (orchestra_project_scope() IS NULL OR {column} = orchestra_project_scope())"
    return visible


def _rebuild_policies(visible: object) -> None:
    bind = op.get_bind()
    for table in bind.execute(_POLICY_TABLES).scalars().all():
        columns = set(bind.execute(_COLUMNS, {"t": table}).scalars())
        expression = visible(table, columns)  # type: ignore[operator]
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({expression}) WITH CHECK ({expression})"
        )


def _temporary(grant: bool) -> None:
    verb = (
        "GRANT TEMPORARY ON DATABASE %I TO PUBLIC" if grant else "REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC"
    )
    op.execute(f"DO $$ BEGIN EXECUTE format('{verb}', current_database()); END $$")


def upgrade() -> None:
    op.create_table(
        "tenant_context_key",
        sa.Column("id", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("inner_pad", sa.LargeBinary(), nullable=False),
        sa.Column("outer_pad", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("id", name=op.f("ck_tenant_context_key_one_row")),
        sa.CheckConstraint(
            "length(inner_pad) = 64 AND length(outer_pad) = 64", name=op.f("ck_tenant_context_key_pads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_context_key")),
    )
    # The default privileges of migration 0006 gave it to orchestra_app: the key is orchestra_system's only.
    op.execute("REVOKE ALL ON tenant_context_key FROM PUBLIC, orchestra_app")
    op.execute("GRANT SELECT (inner_pad, outer_pad) ON tenant_context_key TO orchestra_system")

    for signature, body in ((_ENTER, _ENTER_BODY), (_VERIFIED, _VERIFIED_BODY)):
        op.execute(f"CREATE FUNCTION {signature} {body}")
        op.execute(f"ALTER FUNCTION {signature} OWNER TO orchestra_system")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO orchestra_app, orchestra_system")
    op.execute(
        f"CREATE OR REPLACE FUNCTION orchestra_tenant() RETURNS uuid LANGUAGE sql STABLE AS $$ {_TENANT_BODY} $$"
    )
    op.execute(
        f"CREATE OR REPLACE FUNCTION orchestra_project_scope() RETURNS uuid LANGUAGE sql STABLE AS $$ {_PROJECT_BODY} $$"
    )
    _rebuild_policies(_visible)
    _temporary(grant=False)


def downgrade() -> None:
    _temporary(grant=True)
    _rebuild_policies(_old_visible)
    op.execute(
        f"CREATE OR REPLACE FUNCTION orchestra_project_scope() RETURNS uuid LANGUAGE sql STABLE AS $$ {_OLD_PROJECT_BODY} $$"
    )
    op.execute(
        f"CREATE OR REPLACE FUNCTION orchestra_tenant() RETURNS uuid LANGUAGE sql STABLE AS $$ {_OLD_TENANT_BODY} $$"
    )
    op.execute(f"DROP FUNCTION {_VERIFIED}")
    op.execute(f"DROP FUNCTION {_ENTER}")
    op.drop_table("tenant_context_key")
