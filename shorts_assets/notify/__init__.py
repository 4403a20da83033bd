"""Notifications: events recorded in a durable outbox and delivered, signed, to webhooks at least once.

``emit(store, kind, channel=..., config=..., video_id=..., data=...)`` records an event with one
delivery row per destination and posts it in the background; ``drain`` (the delivery sensor) posts
whatever is due. See the README's Notifications section for the wire format.
"""

from shorts_assets.notify.config import WebhookConfig, load_config
from shorts_assets.notify.delivery import DrainReport, drain, wait_for_background
from shorts_assets.notify.emitter import Notifier, emit
from shorts_assets.notify.events import KINDS
from shorts_assets.notify.outbox import deliveries, requeue_dead

__all__ = [
    "KINDS",
    "DrainReport",
    "Notifier",
    "WebhookConfig",
    "deliveries",
    "drain",
    "emit",
    "load_config",
    "requeue_dead",
    "wait_for_background",
]
