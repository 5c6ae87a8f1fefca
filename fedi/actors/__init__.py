"""Actors: local ones (URIs, keys, the instance's own two), remote ones (fetched, cached, their
keys resolved) and the ActivityPub actor document both are read and written as."""
