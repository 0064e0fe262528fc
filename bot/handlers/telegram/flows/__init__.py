"""The debtor's flows, one module each (python-telegram-bot's conversationbot.py style).

Importing this package makes every flow known to bot.handlers.telegram.conversation.FLOWS.
"""

from bot.handlers.telegram.flows import dispute, paid, person, plan, promise, statement

ALL = (paid.FLOW, dispute.FLOW, plan.FLOW, promise.FLOW, statement.FLOW, person.FLOW)
