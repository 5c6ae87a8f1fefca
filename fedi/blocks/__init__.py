"""Domain blocks: managed by admins, applied by the inbox, the fetchers and the outbox."""
