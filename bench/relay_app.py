"""The bare relay bench/widget_latency.py measures Parley against: the least a Channels consumer can do.

Each text frame received is group_sent to one group, as is; nothing is checked, stored or answered.
It uses channels-redis with its defaults (capacity 100, expiry 60), over the same Redis as Parley,
through Parley's WaitingRedisChannelLayer for one thing only: a connection pool that waits when all
its connections are busy. channels-redis's own pool raises MaxConnectionsError at 100, which closed
a third of the relay's sockets whenever the machine stalled for a moment, and left its latency
figures to the survivors. Its group_send is channels-redis's own.
Run by the bench: uvicorn bench.relay_app:application
"""

import os

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings
from django.urls import path

GROUP = "relay.agents"

settings.configure(
    CHANNEL_LAYERS={
        "default": {
            "BACKEND": "config.channel_layer.WaitingRedisChannelLayer",
            # channels-redis defaults (capacity 100, expiry 60); only the socket timeout is raised above
            # its 5 s blocking pop, which redis-py 8's default 5 s timeout would otherwise break.
            "CONFIG": {
                "hosts": [{"address": os.environ["REDIS_URL"], "socket_timeout": 15}],
                "prefix": os.environ.get("RELAY_PREFIX", "bench-relay"),
            },
        }
    },
    INSTALLED_APPS=["channels"],
)


class RelayConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.layer = get_channel_layer()
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        await self.layer.group_send(GROUP, {"type": "relay.message", "text": text_data})


application = ProtocolTypeRouter({"websocket": URLRouter([path("relay/", RelayConsumer.as_asgi())])})
