"""What an export's ZIP holds, and its writing: one JSON file per kind of data, objects in the shapes
the REST API and the webhooks use (webhooks.selectors.documented_objects, api.schemas), and a manifest.

    manifest.json       format, version, workspace, when, and how many objects each file holds
    contacts.json       a JSON array of contacts, oldest first (the API's Contact)
    conversations.json  a JSON array of conversations, oldest first (the API's Conversation)
    messages.jsonl      JSON Lines: one message a line, oldest first (the API's Message)
    members.json        a JSON array of {"user": the API's User, "role", "joined_at"}
    settings.json       the workspace, its plan, websites, inbox settings, labels, canned responses
                        and webhook endpoints (no secret of any kind)

Conversations, messages and contacts are read and written in keyset batches of PARLEY_EXPORT_BATCH
(selectors.id_batches), so the memory a build takes does not grow with the workspace. Messages are
JSON Lines because they are the big file: a reader can take them a line at a time too. The arrays are
written an object a line as well, so they stream the same way once the brackets are skipped.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.utils import timezone

from api.schemas import EndpointOut, UserOut, api_time
from billing import selectors as billing_selectors
from exports import selectors
from exports.models import WorkspaceExport
from inbox import selectors as inbox_selectors
from inbox.models import InboxSettings
from tenants.context import workspace_schema
from tenants.models import Workspace
from webhooks import selectors as webhook_selectors

FORMAT = "parley-workspace-export"
FORMAT_VERSION = 1

# (file, kind of documented object, written as JSON Lines rather than one array), in the order written:
# what others point to first (a conversation names its contact, a message its conversation).
ROW_FILES = [
    ("contacts.json", "contact", False),
    ("conversations.json", "conversation", False),
    ("messages.jsonl", "message", True),
]
FILES = [name for name, _, _ in ROW_FILES] + ["members.json", "settings.json", "manifest.json"]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _time(value) -> str | None:
    return api_time(value) if value is not None else None


def _write_rows(
    archive: zipfile.ZipFile,
    name: str,
    kind: str,
    *,
    lines: bool,
    upto: int,
    batch_size: int,
    progress: Callable[[int], None],
) -> int:
    """Write every `kind` up to id `upto` into `name`, a batch at a time; the number written."""
    written = 0
    with archive.open(name, "w", force_zip64=True) as file:
        if not lines:
            file.write(b"[")
        for ids in selectors.id_batches(kind, upto=upto, size=batch_size):
            objects = webhook_selectors.documented_objects(kind, ids)
            if lines:
                chunk = "".join(_json(obj) + "\n" for obj in objects)
            else:
                chunk = "".join(
                    ("\n" if written + i == 0 else ",\n") + _json(obj) for i, obj in enumerate(objects)
                )
            file.write(chunk.encode())
            written += len(objects)
            progress(len(objects))
        if not lines:
            file.write(b"\n]\n")
    return written


def members_data(workspace: Workspace) -> list[dict]:
    """members.json: each member's user (the API's User), role and since when."""
    return [
        {
            "user": UserOut(id=m.user.pk, name=m.user.name, email=m.user.email).model_dump(mode="json"),
            "role": m.role,
            "joined_at": _time(m.created_at),
        }
        for m in selectors.members_of_workspace(workspace=workspace)
    ]


def settings_data(workspace: Workspace) -> dict:
    """settings.json: how the workspace is set up, without its secrets (widget identity secrets,
    webhook signing secrets and API keys are left out: a leaked export must not let anyone act)."""
    summary = billing_selectors.billing_summary(billing_selectors.account_of(workspace))
    inbox = InboxSettings.objects.filter(pk=1).first() or InboxSettings()
    return {
        "workspace": {
            "id": workspace.pk,
            "name": workspace.name,
            "slug": workspace.slug,
            "created_at": _time(workspace.claimed_at),
        },
        "billing": {
            "plan": summary.subscribed.key,
            "status": summary.status,
            "current_period_end": _time(summary.period_end),
        },
        "websites": [
            {
                "id": website.pk,
                "name": website.name,
                "site_key": website.site_key,  # public: it is in every page that shows the widget
                "allowed_origins": website.allowed_origins,
                "accent_color": website.accent_color,
                "greeting": website.greeting,
                "team_name": website.team_name,
                "launcher_position": website.launcher_position,
                "ask_email_after_seconds": website.ask_email_after_seconds,
                "identity_verification_required": website.identity_verification_required,
                "created_at": _time(website.created_at),
            }
            for website in inbox_selectors.websites_of_workspace().order_by("id")
        ],
        "inbox": {"auto_assign": inbox.auto_assign, "auto_assign_limit": inbox.auto_assign_limit},
        "labels": [
            {"id": label.pk, "name": label.name, "color": label.color}
            for label in inbox_selectors.labels_of_workspace()
        ],
        "canned_responses": [
            {
                "id": canned.pk,
                "shortcut": canned.shortcut,
                "body": canned.body,
                "created_at": _time(canned.created_at),
            }
            for canned in inbox_selectors.canned_responses()
        ],
        "webhook_endpoints": [
            EndpointOut.from_orm(endpoint).model_dump(mode="json")
            for endpoint in webhook_selectors.endpoints_of_workspace()
        ],
    }


def write(
    *,
    path: Path,
    export: WorkspaceExport,
    upto: dict[str, int],
    batch_size: int,
    progress: Callable[[int], None],
) -> dict[str, int]:
    """Write the export's ZIP at `path`; the number of objects in each file. `progress(n)` is called
    as each batch of n rows is written."""
    workspace = export.workspace
    counts: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        with workspace_schema(workspace.schema_name):
            for name, kind, lines in ROW_FILES:
                counts[name] = _write_rows(
                    archive,
                    name,
                    kind,
                    lines=lines,
                    upto=upto[kind],
                    batch_size=batch_size,
                    progress=progress,
                )
        members = members_data(workspace)
        archive.writestr("members.json", _json(members) + "\n")
        counts["members.json"] = len(members)
        progress(len(members))
        with workspace_schema(workspace.schema_name):
            archive.writestr("settings.json", _json(settings_data(workspace)) + "\n")
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": api_time(timezone.now()),
            "workspace": {"id": workspace.pk, "slug": workspace.slug, "name": workspace.name},
            "requested_by": "staff" if export.by_staff else "owner",
            "counts": counts,
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return counts
