"""Broadcasts: campaigns, audiences (community tags, WeCom robot groups), channels, delivery
ledger and the weekly-reminder scheduler. Built in issue [6/8]; empty until then."""
