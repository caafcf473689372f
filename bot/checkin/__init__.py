"""Check-ins: the service that prompts, takes a reply or a form and saves or asks, the prompt
and confirmation views, the form, and presence (away / back)."""
