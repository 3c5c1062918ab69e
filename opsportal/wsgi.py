import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
application = get_wsgi_application()

from opsportal.warmup import warm_up  # noqa: E402 - needs the apps that get_wsgi_application loaded

warm_up()
# Everything loaded so far (Django, the apps, their modules) lives as long as the process: moved out
# of the collector's sight, a full collection walks a quarter of the objects and stops the process's
# threads for ~10 ms instead of ~60 ms, a tail every request in flight used to pay (docs/production.md).
gc.freeze()
