"""The visitor's socket and its HTTP fallback, served by Channels beside Django (config/asgi.py)."""

from django.urls import path

from widget.consumers import WidgetConsumer
from widget.http_fallback import WidgetHttpConsumer

websocket_urlpatterns = [
    path("ws/widget/", WidgetConsumer.as_asgi()),
]

http_urlpatterns = [
    path("widget/api/<str:action>", WidgetHttpConsumer.as_asgi()),
]
