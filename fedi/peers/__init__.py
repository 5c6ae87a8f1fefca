"""Peering between national networks: who we peer with, and keeping their offers here."""
