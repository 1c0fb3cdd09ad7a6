"""The widget's script, on the public host: the snippet loads /widget.js, which loads its pinned build."""

from django.urls import path

from widget import script_views

urlpatterns = [
    path("widget.js", script_views.widget_js, name="widget_js"),
    path("widget.<str:version>.js", script_views.widget_js_pinned, name="widget_js_pinned"),
]
