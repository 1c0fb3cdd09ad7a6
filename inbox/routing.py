from django.urls import path

from inbox.consumers import WidgetConsumer
from inbox.inbox_consumer import InboxConsumer
from inbox.widget_http import WidgetHttpConsumer

websocket_urlpatterns = [
    path("ws/widget/", WidgetConsumer.as_asgi()),
    path("ws/inbox/", InboxConsumer.as_asgi()),
]

http_urlpatterns = [
    path("widget/api/<str:action>", WidgetHttpConsumer.as_asgi()),
]
