"""ASGI entry point: Django for pages, Channels for WebSockets and the widget's HTTP fallback."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.urls import path, re_path

django_asgi_app = get_asgi_application()

from config import shutdown  # noqa: E402
from config.edge import EdgeMiddleware  # noqa: E402
from inbox import routing as agent_routing  # noqa: E402
from staff.impersonation_socket import ImpersonationSocketGuard  # noqa: E402
from widget import routing as visitor_routing  # noqa: E402

routes = ProtocolTypeRouter(
    {
        # The widget's long-poll endpoints bypass Django's synchronous middleware (see
        # widget/http_fallback.py); every other request is Django's.
        "http": URLRouter([*visitor_routing.http_urlpatterns, re_path(r"", django_asgi_app)]),
        # The widget socket checks each connection's Origin against its website's allowed
        # origins itself: they are customers' sites, not our hosts. An agent's socket of a staff user
        # viewing a workspace as a member is read-only, and refused once that is over (staff); the
        # visitors' sockets, the hot path, never pay for that check.
        "websocket": URLRouter(
            [
                *visitor_routing.websocket_urlpatterns,
                *[
                    path(str(route.pattern), ImpersonationSocketGuard(route.callback))
                    for route in agent_routing.websocket_urlpatterns
                ],
            ]
        ),
    }
)
# Outermost: every request and socket below sees the client address it decides.
# Around it, the stop handlers waiting requests rely on (config/shutdown.py).
application = shutdown.Watching(EdgeMiddleware(routes, trusted_proxies=settings.PARLEY_TRUSTED_PROXIES))

# Everything imported so far lives as long as the process: move it out of the garbage collector's
# sight, so its full collections (tens of ms with Django loaded, stalling every socket of the
# process) walk only what requests and sockets allocate.
gc.freeze()
