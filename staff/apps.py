from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff console"


class ParleyAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with staff.admin_site.SuperuserAdminSite as `admin.site`, so the apps' own
    admin modules (procrastinate's jobs, allauth's addresses and authenticators) register with it.
    Here, not in admin_site.py: an app config's module is imported before the models are ready."""

    default = False  # StaffConfig is the staff app's; this one is named in INSTALLED_APPS
    default_site = "staff.admin_site.SuperuserAdminSite"
