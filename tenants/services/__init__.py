"""Writes of the tenants app, one module per topic; callers use `tenants.services.<name>`."""

from tenants.services.handoffs import (
    HANDOFF_LIFETIME,
    handoff_create,
    handoff_redeem,
    handoff_url,
    token_hash,
)
from tenants.services.suspension import (
    workspace_deletion_schedule,
    workspace_drop,
    workspace_restore,
    workspace_suspend,
    workspace_unsuspend,
)
from tenants.services.team import (
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_revoke,
    membership_remove,
    membership_role_set,
)
from tenants.services.workspaces import (
    SLUG_MAX,
    SLUG_MIN,
    SLUG_PATTERN,
    spare_pool_refill,
    spare_schema_provision,
    workspace_create,
    workspace_slug_validate,
    workspace_update,
)

__all__ = [
    "HANDOFF_LIFETIME",
    "SLUG_MAX",
    "SLUG_MIN",
    "SLUG_PATTERN",
    "handoff_create",
    "handoff_redeem",
    "handoff_url",
    "invitation_accept",
    "invitation_create",
    "invitation_for_token",
    "invitation_revoke",
    "membership_remove",
    "membership_role_set",
    "spare_pool_refill",
    "spare_schema_provision",
    "token_hash",
    "workspace_create",
    "workspace_deletion_schedule",
    "workspace_drop",
    "workspace_restore",
    "workspace_slug_validate",
    "workspace_suspend",
    "workspace_unsuspend",
    "workspace_update",
]
