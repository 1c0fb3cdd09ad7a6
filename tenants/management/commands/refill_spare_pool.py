from django.core.management.base import BaseCommand

from tenants import selectors, services


class Command(BaseCommand):
    help = "Top up the pool of ready spare schemas (the worker also does this every minute)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--target", type=int, default=None, help="spares to keep (default: PARLEY_SPARE_SCHEMAS)"
        )

    def handle(self, *args, target=None, **options):
        made = services.spare_pool_refill(target=target)
        self.stdout.write(f"spare schemas made: {made}; in the pool now: {selectors.spare_count()}")
