"""Microsoft Teams: the botbuilder bot on /api/messages, the outbox sender, Adaptive Card
rendering, the Bot Connector clients, and the app package with its template."""
