"""Values shared by the channel tests."""

# Values the fixtures in tests/fixtures are written with, plus our own secrets.
ACCOUNT_SID = "AC9af211329b2fc82e5efe906062c73008"
AUTH_TOKEN = "test_auth_token_0123456789abcdef"
MESSAGING_SERVICE_SID = "MGc8bffbe4a6f4d7eec602a85352babca6"
CHANNEL_NUMBER = "+15550100000"
BOT_ID = 7000000001
BOT_TOKEN = f"{BOT_ID}:AAH-fake_token_for_tests_0123456789"
TELEGRAM_SECRET = "webhook-secret_0123456789"
PAGE_ID = "101234567890123"
PAGE_TOKEN = "EAAGfakePageAccessToken0123456789"
APP_SECRET = "app_secret_0123456789abcdef"
VERIFY_TOKEN = "verify-token-42"
PLACEHOLDERS = {"CHANNEL_NUMBER": CHANNEL_NUMBER, "BOT_ID": BOT_ID, "PAGE_ID": PAGE_ID}
