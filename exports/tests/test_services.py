"""An export requested, built and expired, on real schemas: what its ZIP holds (compared with the data,
and with nothing of another workspace), its batches and progress, one at a time, and its failures."""

from __future__ import annotations

import json
import re
import tracemalloc
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.schemas import ContactOut, ConversationOut, MessageOut, UserOut
from exports import archive, services
from exports.models import WorkspaceExport
from exports.tests.data import add_messages, export_files, fill, json_lines, zip_files
from tenants.context import workspace_schema
from tenants.models import Membership
from webhooks.selectors import documented_objects

pytestmark = pytest.mark.django_db


def queued_jobs() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT queue_name, lock, queueing_lock, args FROM procrastinate_jobs "
            "WHERE task_name = 'exports.tasks.export_build' ORDER BY id"
        )
        return cursor.fetchall()


def job_ran(export: WorkspaceExport) -> None:
    """What the worker does with a job that succeeded (delete_jobs in the settings): the tests here run
    the build itself in process (exports/tests/test_tasks.py runs the real worker)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE args->>'export_id' = %s", [str(export.pk)])


def built(workspace, user, **kwargs) -> WorkspaceExport:
    export, created = services.export_request(workspace=workspace, requested_by=user, **kwargs)
    assert created
    services.export_build(export_id=export.pk)
    job_ran(export)
    export.refresh_from_db()
    return export


def test_the_zip_holds_the_workspace_as_the_api_shows_it(workspace_a, owner_a, export_dir):
    filled = fill(workspace_a, owner_a, "alpha")
    export = built(workspace_a, owner_a)
    files = export_files(export)
    assert sorted(files) == sorted(archive.FILES)

    conversations = json.loads(files["conversations.json"])
    messages = json_lines(files["messages.jsonl"])
    contacts = json.loads(files["contacts.json"])
    with workspace_schema(workspace_a.schema_name):
        assert conversations == documented_objects("conversation", filled.conversation_ids)
        assert messages == documented_objects("message", filled.message_ids)
        assert contacts == documented_objects("contact", filled.contact_ids)
    # Every kind of message, notes and system events included, oldest first; each in the API's shape.
    assert [m["id"] for m in messages] == filled.message_ids
    assert {m["kind"] for m in messages} == {"visitor", "agent", "note", "system"}
    assert messages[0]["body"] == "Question 0 from alpha <b>"  # as written: JSON, not HTML
    for objects, schema in ((conversations, ConversationOut), (messages, MessageOut), (contacts, ContactOut)):
        for obj in objects:
            assert schema.model_validate(obj).model_dump(mode="json") == obj
    assert conversations[0]["labels"] == ["Label-alpha"]
    assert contacts[0]["email"] == "visitor0@alpha.example"

    members = json.loads(files["members.json"])
    assert members == [
        {
            "user": UserOut(id=owner_a.pk, name=owner_a.name, email=owner_a.email).model_dump(mode="json"),
            "role": "owner",
            "joined_at": members[0]["joined_at"],
        }
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", members[0]["joined_at"])

    config = json.loads(files["settings.json"])
    assert config["workspace"] == {
        "id": workspace_a.pk,
        "name": "Alpha Support",
        "slug": "alpha",
        "created_at": config["workspace"]["created_at"],
    }
    assert [w["name"] for w in config["websites"]] == ["Site alpha"]
    assert config["websites"][0]["allowed_origins"] == ["https://alpha.example"]
    assert config["inbox"] == {"auto_assign": True, "auto_assign_limit": 7}
    assert [label["name"] for label in config["labels"]] == ["Label-alpha"]
    assert [c["shortcut"] for c in config["canned_responses"]] == ["hello-alpha"]
    assert config["webhook_endpoints"][0]["url"] == "https://hooks.alpha.example/in"
    assert config["billing"]["plan"] == "free"
    # No secret of any kind, sealed or not, in any file.
    everything = b"".join(files.values()).decode()
    for secret in filled.secrets:
        assert secret not in everything
    assert "secret" not in everything and "sealed" not in everything

    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "parley-workspace-export" and manifest["version"] == 1
    assert manifest["workspace"] == {"id": workspace_a.pk, "slug": "alpha", "name": "Alpha Support"}
    assert manifest["requested_by"] == "owner"
    assert manifest["counts"] == {
        "contacts.json": 2,
        "conversations.json": 2,
        "messages.jsonl": len(filled.message_ids),
        "members.json": 1,
    }
    assert export.counts == manifest["counts"]
    assert export.progress_done == export.progress_total == 2 + len(filled.message_ids) + 2 + 1
    assert export.file_size == (export_dir / export.file_name).stat().st_size
    assert export.expires_at == export.finished_at + timedelta(days=7)


def test_another_workspace_never_appears_in_an_export(workspace_a, owner_a, workspace_b, owner_b):
    alpha = fill(workspace_a, owner_a, "alpha")
    beta = fill(workspace_b, owner_b, "beta", visitors=3)
    files_a = export_files(built(workspace_a, owner_a))
    files_b = export_files(built(workspace_b, owner_b))
    text_a, text_b = (b"".join(files.values()).decode() for files in (files_a, files_b))
    for word in [*beta.words, owner_b.email]:
        assert word not in text_a, word
    for word in [*alpha.words, owner_a.email]:
        assert word not in text_b, word
    assert len(json.loads(files_b["conversations.json"])) == 3
    assert json.loads(files_b["manifest.json"])["workspace"]["slug"] == "beta"


def test_an_empty_workspace_exports_empty_files(workspace_a, owner_a):
    files = export_files(built(workspace_a, owner_a))
    assert json.loads(files["conversations.json"]) == [] == json.loads(files["contacts.json"])
    assert files["messages.jsonl"] == b""
    assert json.loads(files["settings.json"])["websites"] == []


def test_messages_are_read_and_written_in_keyset_batches_with_progress_each_batch(
    workspace_a, owner_a, settings
):
    settings.PARLEY_EXPORT_BATCH = 10
    filled = fill(workspace_a, owner_a, "alpha", visitors=1)  # 1 conversation, 1 contact
    add_messages(workspace_a, 45 - len(filled.message_ids))  # 45 messages: 5 batches
    export, _ = services.export_request(workspace=workspace_a, requested_by=owner_a)
    with CaptureQueriesContext(connection) as queries:
        services.export_build(export_id=export.pk)
    sql = [query["sql"] for query in queries.captured_queries]
    assert sum("webhook_message_data" in q for q in sql) == 5
    assert sum("webhook_conversation_data" in q for q in sql) == 1
    assert sum("webhook_contact_data" in q for q in sql) == 1
    # Each batch after the first starts after the last id of the one before: never an OFFSET.
    message_reads = [q for q in sql if 'FROM "inbox_message"' in q and '"inbox_message"."id" >' in q]
    assert len(message_reads) == 5 and not any("OFFSET" in q for q in message_reads)
    # Progress written once per batch (and once for the members), rising to the total.
    progress = [
        int(m.group(1))
        for q in sql
        if (m := re.search(r'UPDATE "exports_workspaceexport" SET "progress_done" = (\d+) WHERE', q))
    ]
    assert progress == [1, 2, 12, 22, 32, 42, 47, 48]  # contact, conversation, 5 message batches, member
    export.refresh_from_db()
    assert export.progress_total == 48 and export.percent == 100
    assert len(json_lines(export_files(export)["messages.jsonl"])) == 45


def test_the_memory_a_build_takes_does_not_grow_with_the_workspace(workspace_a, owner_a, settings):
    settings.PARLEY_EXPORT_BATCH = 100

    def peak_bytes() -> int:
        export, _ = services.export_request(workspace=workspace_a, requested_by=owner_a)
        tracemalloc.start()
        try:
            services.export_build(export_id=export.pk)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            job_ran(export)

    fill(workspace_a, owner_a, "alpha", visitors=1)
    add_messages(workspace_a, 300)
    small = peak_bytes()
    add_messages(workspace_a, 2700)
    big = peak_bytes()
    # Ten times the messages, about the same peak (a batch's worth): all 3,000 held at once would take
    # some megabytes more.
    assert big < small * 1.25, (small, big)


def test_rows_newer_than_the_build_started_with_are_left_out(workspace_a, owner_a, tmp_path):
    # The build fixes the newest ids first (selectors.newest_ids): a message written while it runs is
    # the next export's, and the counts it started with are the counts it writes.
    filled = fill(workspace_a, owner_a, "alpha", visitors=2)
    export, _ = services.export_request(workspace=workspace_a, requested_by=owner_a)
    upto = {
        "conversation": filled.conversation_ids[0],
        "message": filled.message_ids[2],
        "contact": filled.contact_ids[-1],
    }
    batches = []
    counts = archive.write(
        path=tmp_path / "part.zip", export=export, upto=upto, batch_size=2, progress=batches.append
    )
    assert counts == {"contacts.json": 2, "conversations.json": 1, "messages.jsonl": 3, "members.json": 1}
    assert batches == [2, 1, 2, 1, 1]  # contacts, conversations, messages (2 batches), members
    with open(tmp_path / "part.zip", "rb") as file:
        files = zip_files(file.read())
    assert [m["id"] for m in json_lines(files["messages.jsonl"])] == filled.message_ids[:3]


def test_one_export_at_a_time_per_workspace_and_side(workspace_a, owner_a, workspace_b, owner_b, staff_user):
    first, created = services.export_request(workspace=workspace_a, requested_by=owner_a)
    again, created_again = services.export_request(workspace=workspace_a, requested_by=owner_a)
    assert created and not created_again and again.pk == first.pk
    staff, staff_created = services.export_request(
        workspace=workspace_a, requested_by=staff_user, by_staff=True
    )
    other, other_created = services.export_request(workspace=workspace_b, requested_by=owner_b)
    assert staff_created and other_created and len({first.pk, staff.pk, other.pk}) == 3
    jobs = queued_jobs()
    assert [(queue, lock, queueing_lock) for queue, lock, queueing_lock, _ in jobs] == [
        ("exports", f"export-{workspace_a.pk}", f"export-{workspace_a.pk}-owners"),
        ("exports", f"export-{workspace_a.pk}", f"export-{workspace_a.pk}-staff"),
        ("exports", f"export-{workspace_b.pk}", f"export-{workspace_b.pk}-owners"),
    ]
    assert json.loads(jobs[0][3]) == {"export_id": first.pk, "workspace_id": workspace_a.pk}

    services.export_build(export_id=first.pk)
    job_ran(first)
    assert services.export_build(export_id=first.pk) == "nothing to build"  # done: a rerun does nothing
    _, created_after = services.export_request(workspace=workspace_a, requested_by=owner_a)
    assert created_after  # done, so a new one may start


def test_a_build_interrupted_by_a_dead_worker_starts_over(workspace_a, owner_a):
    filled = fill(workspace_a, owner_a, "alpha", visitors=1)
    export, _ = services.export_request(workspace=workspace_a, requested_by=owner_a)
    WorkspaceExport.objects.filter(pk=export.pk).update(status="running", progress_done=3, progress_total=99)
    services.export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "done"
    assert export.progress_done == export.progress_total == 1 + len(filled.message_ids) + 1 + 1


def test_a_failed_build_is_marked_failed_and_leaves_no_file(workspace_a, owner_a, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.PARLEY_EXPORT_DIR = blocker / "exports"  # cannot be made: a file is in the way
    export, _ = services.export_request(workspace=workspace_a, requested_by=owner_a)
    with pytest.raises(OSError):
        services.export_build(export_id=export.pk)
    job_ran(export)  # failed, in fact: either way no longer waiting
    export.refresh_from_db()
    assert export.status == "failed" and export.file_name == "" and "Error" in export.error
    assert export.finished_at is not None
    _, created = services.export_request(workspace=workspace_a, requested_by=owner_a)
    assert created  # failed: asked for again


def test_a_newer_export_replaces_the_older_file_of_its_side_only(
    workspace_a, owner_a, staff_user, export_dir, django_capture_on_commit_callbacks
):
    old = built(workspace_a, owner_a)
    staff = built(workspace_a, staff_user, by_staff=True)
    assert (export_dir / old.file_name).exists()
    with django_capture_on_commit_callbacks(execute=True):  # the files go once the change commits
        new = built(workspace_a, owner_a)
    old.refresh_from_db()
    staff.refresh_from_db()
    assert old.status == "expired" and old.file_name == ""
    assert staff.status == "done" and (export_dir / staff.file_name).exists()
    assert sorted(p.name for p in export_dir.iterdir()) == sorted([new.file_name, staff.file_name])


def test_files_past_their_expiry_are_deleted(
    workspace_a, owner_a, workspace_b, owner_b, export_dir, django_capture_on_commit_callbacks
):
    expiring = built(workspace_a, owner_a)
    keeping = built(workspace_b, owner_b)
    WorkspaceExport.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.exports_expired_delete() == 1
    expiring.refresh_from_db()
    assert expiring.status == "expired" and expiring.file_name == ""
    assert [p.name for p in export_dir.iterdir()] == [keeping.file_name]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.exports_expired_delete(now=keeping.expires_at) == 1
    assert list(export_dir.iterdir()) == []
    assert services.exports_expired_delete() == 0


def test_a_member_who_left_is_not_in_the_members_file(workspace_a, owner_a):
    from accounts.models import User

    agent = User.objects.create_user("agent@example.com", "agent-password-1", display_name="Agnes")
    Membership.objects.create(user=agent, workspace=workspace_a, role=Membership.Role.AGENT)
    gone = User.objects.create_user("gone@example.com", "gone-password-1")
    Membership.objects.create(user=gone, workspace=workspace_a, role=Membership.Role.AGENT).delete()
    members = json.loads(export_files(built(workspace_a, owner_a))["members.json"])
    assert [(m["user"]["email"], m["user"]["name"], m["role"]) for m in members] == [
        ("owner-a@example.com", "Ana Owner", "owner"),
        ("agent@example.com", "Agnes", "agent"),
    ]


def test_a_build_whose_workspace_is_dropped_meanwhile_leaves_no_file(workspace_a, owner_a, export_dir):
    fill(workspace_a, owner_a, "alpha")
    export, _ = services.export_request(workspace=workspace_a, requested_by=owner_a)
    with connection.cursor() as cursor:
        # The drop, as another transaction would commit it mid-build: the row goes at the first progress
        # write (the test's transaction rolls the trigger back).
        cursor.execute(
            "CREATE FUNCTION pg_temp.drop_export() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN DELETE FROM exports_workspaceexport WHERE id = NEW.id; RETURN NULL; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER drop_export AFTER UPDATE ON exports_workspaceexport FOR EACH ROW "
            "WHEN (NEW.progress_done > 0) EXECUTE FUNCTION pg_temp.drop_export()"
        )
    assert services.export_build(export_id=export.pk) == "workspace dropped meanwhile: file deleted"
    assert not WorkspaceExport.objects.filter(pk=export.pk).exists()
    assert list(export_dir.iterdir()) == []


def test_discarding_a_workspaces_exports_expires_them_and_unqueues_its_builds(
    workspace_a, owner_a, workspace_b, owner_b, staff_user, export_dir, django_capture_on_commit_callbacks
):
    ready = built(workspace_a, owner_a)
    queued, _ = services.export_request(workspace=workspace_a, requested_by=staff_user, by_staff=True)
    other = built(workspace_b, owner_b)
    other_queued, _ = services.export_request(workspace=workspace_b, requested_by=owner_b)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.workspace_exports_discard(workspace=workspace_a) == 2
    assert {e.status for e in WorkspaceExport.objects.filter(pk__in=[ready.pk, queued.pk])} == {"expired"}
    assert [p.name for p in export_dir.iterdir()] == [other.file_name]
    assert [json.loads(args)["export_id"] for *_, args in queued_jobs()] == [other_queued.pk]
    other.refresh_from_db()
    assert other.status == "done"
