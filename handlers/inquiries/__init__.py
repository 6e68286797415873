"""Service inquiries (办事咨询): a knowledge base, matching, checklists, handoff to officers."""
