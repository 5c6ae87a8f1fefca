"""The ActivityPub machinery shared by every noun: inbox conditions and processing, rendering,
the outbox and its delivery worker, and the delivery health of remote hosts."""
