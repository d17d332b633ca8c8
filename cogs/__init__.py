"""Discord-facing code: commands, replies and delivery of finished images."""
