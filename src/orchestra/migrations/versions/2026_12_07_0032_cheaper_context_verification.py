"""cheaper context verification: the format of the context's mac checked without a bounded repetition

``orchestra_verified_context()`` (migration 0012) runs about six times in every step commit (once per policy
sub-select of the run's update and the step's insert) and once or twice in every other statement. Before it
reads the key it checks that the mac part of ``orchestra.context`` is 64 lower-case hex digits, so that
``decode`` never raises on a planted value; it did so with the regular expression ``^[0-9a-f]{64}$``, whose
bounded repetition PostgreSQL's regex engine expands into 64 states and runs for every call: about 40 % of
the function's time. The same condition is now a length and a search for one character outside the class.
Nothing else changes: the same values are accepted and refused.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

_MAC = "sha256(k.outer_pad || sha256(k.inner_pad || convert_to({message}, 'UTF8')))"
_SIGNATURE = "orchestra_verified_context()"
_OLD_FORMAT = "part[5] !~ '^[0-9a-f]{{64}}$'"
_NEW_FORMAT = "length(part[5]) <> 64 OR part[5] ~ '[^0-9a-f]'"

# Migration 0012's body with the mac's format check as a parameter (CREATE OR REPLACE keeps the function's
# owner, orchestra_system, and its grants).
_BODY = """
    RETURNS text[] LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
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
           OR part[4] NOT IN ('session', extract(epoch FROM now())::text) OR {format} THEN
            RETURN NULL;
        END IF;
        SELECT inner_pad, outer_pad INTO k FROM tenant_context_key;
        -- forged or altered: no tenant either (an error would let a value planted in a pooled session
        -- break the next transaction that enters no tenant)
        IF NOT FOUND OR sha256(decode(part[5], 'hex'))
           <> sha256({mac}) THEN
            RETURN NULL;
        END IF;
        RETURN part[1:2];
    END $$"""


def _replace(format_check: str) -> None:
    mac = _MAC.format(message="'context/' || array_to_string(part[1:4], '/')")
    op.execute(f"CREATE OR REPLACE FUNCTION {_SIGNATURE} {_BODY.format(format=format_check, mac=mac)}")


def upgrade() -> None:
    _replace(_NEW_FORMAT)


def downgrade() -> None:
    _replace(_OLD_FORMAT.format())
