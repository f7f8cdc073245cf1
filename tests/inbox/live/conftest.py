from tests.inbox.messaging.support import setup  # noqa: F401  (fixture)
