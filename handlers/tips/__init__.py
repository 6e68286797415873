"""Residents' tips (线索举报): guided report, emergencies, fraud fast lane, follow-up."""
