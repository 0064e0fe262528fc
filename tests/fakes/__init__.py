"""Local fake servers for the Telegram Bot API and Slack, spoken to by the real client libraries.

See README.md in this folder. Test code only: nothing here imports collectbot.
"""

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_events import SlackEventsClient, url_verification
from tests.fakes.telegram_api import FakeTelegram

__all__ = ["FakeSlack", "FakeTelegram", "SlackEventsClient", "url_verification"]
