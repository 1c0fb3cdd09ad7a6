"""How long from sign-up to a ready workspace: pool claim vs clone vs migration, at 10 and 500 workspaces.

    .venv/bin/python bench/tenant_create.py [--sizes 10,500] [--repeat 5]

Runs in a database of its own (`parley_bench_tenants`, dropped and made again) on the same server as
the app (embedded, or DATABASE_URL's). Every figure is the full `workspace_create` service a sign-up
calls (schema ready, domain, owner membership), median of --repeat runs:

  pool     a migrated spare is waiting; sign-up claims it
  clone    pool empty, django-tenants clones TENANT_BASE_SCHEMA and fakes the migrations
           (measured warm, its best case: see _create_by_clone)
  migrate  pool empty, the schema is created and every tenant migration runs

The filler workspaces are copies of a migrated schema replayed from pg_dump, so that 500 of them
take seconds to make and weigh on the catalog exactly as real ones do. At the end it times
`migrate_schemas` (multiprocessing executor) over every schema in the database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from _support import PROJECT_DIR, fresh_database, libpq

BENCH_DB = "parley_bench_tenants"
BASE_SCHEMA = "ws_clone_template"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,500")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    url = fresh_database(BENCH_DB)
    from django.conf import settings

    bench = TenantBench(url=url, repeat=args.repeat, settings=settings)
    bench.make_clone_template()

    results = {}
    for size in sizes:
        bench.fill_to(size)
        results[size] = bench.measure_all(size)
        print(
            f"  at {bench.workspace_count()} workspaces: "
            + "  ".join(f"{name} {ms:.1f} ms" for name, ms in results[size].items()),
            flush=True,
        )

    migrate_seconds = bench.time_migrate_schemas()
    schemas = bench.schema_count()

    print()
    ok = True
    for size, figures in results.items():
        best_other = min(figures["clone"], figures["migrate"])
        ratio = best_other / figures["pool"]
        passed = figures["pool"] < 100 and ratio >= 5
        ok &= passed
        print(
            f"tenant_create at {size} workspaces: pool claim {figures['pool']:.1f} ms "
            f"(clone {figures['clone']:.1f} ms, migrate {figures['migrate']:.1f} ms), "
            f"{ratio:.1f}x faster than the better of the two "
            f"(target: < 100 ms and >= 5x) {'PASS' if passed else 'FAIL'}"
        )
    print(
        f"migrate_schemas over {schemas} schemas (multiprocessing executor, 2 processes): "
        f"{migrate_seconds:.1f} s"
    )
    return 0 if ok else 1


class TenantBench:
    def __init__(self, *, url: str, repeat: int, settings) -> None:
        self.url = url
        self.repeat = repeat
        self.settings = settings
        self.filler_sql: str | None = None
        self.counter = 0

    # --- set-up (not timed)

    def make_clone_template(self) -> None:
        # A claimed row with no domain: migrate_schemas keeps it current, sign-up never takes it.
        from django.utils import timezone

        from tenants.models import Workspace

        Workspace(schema_name=BASE_SCHEMA, claimed_at=timezone.now()).save(verbosity=0)
        dump = subprocess.run(
            [
                self._pg_dump(),
                "--schema",
                BASE_SCHEMA,
                "--inserts",
                "--no-owner",
                "--no-privileges",
                libpq(self.url),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        self.filler_sql = "\n".join(
            line
            for line in dump.splitlines()
            if not line.startswith(("--", "\\")) and "set_config" not in line
        )

    def _pg_dump(self) -> str:
        from pgserver._commands import POSTGRES_BIN_PATH

        return str(POSTGRES_BIN_PATH / "pg_dump")

    def fill_to(self, size: int) -> None:
        """Add claimed filler workspaces (schema, row, domain) until there are `size`."""
        import psycopg
        from django.utils import timezone

        from tenants.models import Domain, Workspace

        missing = size - self.workspace_count()
        if missing <= 0:
            return
        started = time.monotonic()
        rows = []
        with psycopg.connect(libpq(self.url)) as conn:
            for _ in range(missing):
                self.counter += 1
                schema = f"ws_filler_{self.counter:05d}"
                conn.execute(self.filler_sql.replace(BASE_SCHEMA, schema))
                rows.append(schema)
            conn.commit()
        now = timezone.now()
        made = Workspace.objects.bulk_create(
            [Workspace(schema_name=s, name=s, slug=s.replace("_", "-"), claimed_at=now) for s in rows]
        )
        Domain.objects.bulk_create(
            [Domain(tenant=w, domain=f"{w.slug}.localhost", is_primary=True) for w in made]
        )
        print(
            f"  filled to {self.workspace_count()} workspaces in {time.monotonic() - started:.1f} s",
            flush=True,
        )

    def workspace_count(self) -> int:
        from tenants.models import Workspace

        return Workspace.objects.filter(claimed_at__isnull=False).exclude(schema_name=BASE_SCHEMA).count()

    def schema_count(self) -> int:
        from tenants.models import Workspace

        return Workspace.objects.count()

    # --- measurements

    def measure_all(self, size: int) -> dict[str, float]:
        return {
            "pool": self._median(self._create_by_pool),
            "clone": self._median(self._create_by_clone),
            "migrate": self._median(self._create_by_migration),
        }

    def _median(self, create) -> float:
        times = []
        for _ in range(self.repeat):
            times.append(create())
        # The measured workspaces are removed again so every size is measured at its own count.
        self._drop_measured()
        return statistics.median(times) * 1000

    def _new_owner(self):
        from accounts.models import User

        self.counter += 1
        return User.objects.create_user(f"bench{self.counter}@example.com", None)

    def _timed_create(self) -> float:
        from django.db import connection

        from tenants import services

        owner = self._new_owner()
        # django-tenants closes the connection after migrating; nobody is timed opening a new one.
        connection.ensure_connection()
        started = time.perf_counter()
        services.workspace_create(owner=owner, name="Bench", slug=f"bench-{self.counter}")
        return time.perf_counter() - started

    def _create_by_pool(self) -> float:
        from tenants import services

        services.spare_schema_provision()  # the worker's part, ahead of time
        return self._timed_create()

    def _create_by_clone(self) -> float:
        # Fair to cloning: its 4,000-line plpgsql function runs ~2 s on a backend whose catalog
        # caches are cold (every new connection). Warm this backend with a throwaway clone first,
        # so the figure is clone's best case, not its usual one.
        from django.db import connection
        from django_tenants.clone import CloneSchema

        CloneSchema().clone_schema(BASE_SCHEMA, "ws_clone_warmup")
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA ws_clone_warmup CASCADE")
        self.settings.TENANT_BASE_SCHEMA = BASE_SCHEMA
        self.settings.TENANT_CREATION_FAKES_MIGRATIONS = True
        try:
            return self._timed_create()
        finally:
            del self.settings.TENANT_BASE_SCHEMA
            del self.settings.TENANT_CREATION_FAKES_MIGRATIONS

    def _create_by_migration(self) -> float:
        return self._timed_create()

    def _drop_measured(self) -> None:
        from tenants.models import Workspace

        for workspace in Workspace.objects.filter(slug__startswith="bench-"):
            workspace.delete(force_drop=True)

    def time_migrate_schemas(self) -> float:
        env = os.environ | {"DATABASE_URL": self.url}
        started = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "migrate_schemas",
                "--executor",
                "multiprocessing",
                "--noinput",
                "-v",
                "0",
            ],
            cwd=PROJECT_DIR,
            env=env,
            check=True,
        )
        return time.monotonic() - started


if __name__ == "__main__":
    sys.exit(main())
