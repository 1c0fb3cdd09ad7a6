"""Conversations between visitors and agents (tenant schema). Models arrive with the widget (issue 4)."""
