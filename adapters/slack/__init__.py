"""Slack: the bolt app (commands, DMs, buttons, the modal, App Home), the outbox sender, Block
Kit rendering, and the app manifest to paste into Slack."""
