"""The agents' socket: the live inbox (inbox/agent_consumer.py)."""

from django.urls import path

from inbox.agent_consumer import InboxConsumer

websocket_urlpatterns = [
    path("ws/inbox/", InboxConsumer.as_asgi()),
]
