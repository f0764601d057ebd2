"""Notifications (通知): each user's inbox, the live stream, and signed webhooks through the outbox."""
