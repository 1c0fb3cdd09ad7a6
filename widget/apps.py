from django.apps import AppConfig


class WidgetConfig(AppConfig):
    """The visitor's side: the widget's socket, its HTTP fallback, the script it loads, their limits.
    No tables of its own: it works on the inbox's contacts and messages through inbox's services."""

    name = "widget"
