"""Outbound webhooks of a workspace (tenant schema). Built in issue 6."""
