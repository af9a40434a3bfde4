"""Adapters: Telegram handlers, rendering, keyboards, delivery, HTTP, the playground."""
