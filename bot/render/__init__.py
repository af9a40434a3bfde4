"""Pure rendering: domain values -> `Rendered` (Telegram HTML text and a keyboard)."""
