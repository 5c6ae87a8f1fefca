"""Forum threads and their replies: the ``Page`` that starts a thread, the ``Note`` replies, the
accepted answer, and the forum's ``Announce`` of each (FEP-1b12)."""
