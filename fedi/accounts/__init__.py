"""Accounts: invitations, sign-in sessions, login throttling and credentials (no rendering)."""
