"""arq workers: sending, enrichment, media, retention and the privacy crons.

``inbox worker`` runs them; ``workers.WorkerSettings`` is there for the ``arq``
command line as well (it needs ``REDIS_URL``).
"""

from workers.settings import WorkerSettings, build_worker

__all__ = ["WorkerSettings", "build_worker"]
