class WorkspaceError(Exception):
    """Base of the errors the tenants services raise; the message is fit to show the user."""


class WorkspaceSlugInvalid(WorkspaceError):
    pass


class WorkspaceSlugTaken(WorkspaceError):
    pass


class WorkspaceRoleRequired(WorkspaceError):
    pass


class HandoffInvalid(WorkspaceError):
    pass


class LastOwner(WorkspaceError):
    """A workspace keeps at least one owner."""


class InvitationInvalid(WorkspaceError):
    """Expired, used, revoked or unknown."""


class InvitationAddressUnproven(WorkspaceError):
    """The account accepting has not proven the invited address."""


class WorkspaceStateRefused(WorkspaceError):
    """A suspension, deletion or restore that the workspace's state does not allow now (suspending a
    suspended workspace, restoring one past its deletion time)."""
