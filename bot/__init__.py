"""The pingan service: webhook, dispatcher, WeChat API gateway, configuration and CLI."""
