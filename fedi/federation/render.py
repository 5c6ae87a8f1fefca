"""The ActivityStreams documents we serve for local actors and collections."""

from __future__ import annotations

from typing import Any

from fedi.actors.expertise import PROFILE_CONTEXT, ProfileTerms, profile_terms
from fedi.actors.local import LocalActorUrls, is_forum
from fedi.db.models import Actor, ActorType
from fedi.federation.html import text_to_html
from fedi.federation.vocab import actor_context
from fedi.settings import Settings

__all__ = ["render_actor", "render_collection", "render_collection_page"]


def render_actor(
    actor: Actor, settings: Settings, profile: ProfileTerms | None = None
) -> dict[str, Any]:
    """A local actor as served at its id: keys for draft-cavage (``publicKey``) and Ed25519
    (``assertionMethod`` Multikey, FEP-521a), inboxes, collections and discovery flags.

    A local actor's summary is stored as the plain text an operator wrote; it is sent as HTML,
    which is what ``summary`` holds for every peer. A forum names its moderators collection in
    ``attributedTo``, where Lemmy and Mbin look for it (FEP-1b12). A discoverable member's
    ``profile`` (organisation, country, languages, expertise) is carried under our terms
    (:data:`~fedi.actors.expertise.PROFILE_CONTEXT`); it is left out when the member is not."""
    assert actor.local, "only local actors are rendered"
    document: dict[str, Any] = {
        "@context": actor_context(),
        "id": actor.uri,
        "type": actor.type.value,
        "preferredUsername": actor.username,
        "name": actor.display_name or actor.username,
        "summary": text_to_html(actor.summary),
        "url": actor.url or actor.uri,
        "inbox": actor.inbox,
        "outbox": actor.outbox,
        "followers": actor.followers_url,
        "following": actor.following_url,
        "endpoints": {"sharedInbox": actor.shared_inbox},
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "discoverable": actor.indexable,
        "indexable": actor.indexable,
        "published": actor.created_at.isoformat().replace("+00:00", "Z"),
        "publicKey": {
            "id": actor.public_key_id,
            "owner": actor.uri,
            "publicKeyPem": actor.public_key_pem,
        },
    }
    if actor.ed25519_key_id and actor.ed25519_public_multibase:
        document["assertionMethod"] = [
            {
                "id": actor.ed25519_key_id,
                "type": "Multikey",
                "controller": actor.uri,
                "publicKeyMultibase": actor.ed25519_public_multibase,
            }
        ]
    if profile is not None and actor.indexable and not profile.empty:
        document["@context"] = [*document["@context"], dict(PROFILE_CONTEXT)]
        document.update(profile_terms(profile))
    if is_forum(actor, settings):
        document["attributedTo"] = LocalActorUrls(actor.uri).moderators
        document["featured"] = LocalActorUrls(actor.uri).featured
    if actor.type is ActorType.APPLICATION:
        # FEP-2677: the instance actor names the server it speaks for.
        document["url"] = settings.base_url
        document["summary"] = text_to_html(
            actor.summary or f"The instance actor of {settings.instance_name}."
        )
    return document


def render_collection(
    collection_id: str, total: int, *, paged: bool = True, items: list[Any] | None = None
) -> dict[str, Any]:
    """An ``OrderedCollection`` head that links to its first page, or, given ``items``, a whole
    collection in one document (a forum's moderators: Lemmy reads only ``orderedItems``)."""
    document: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if items is not None:
        document["orderedItems"] = items
    elif paged:
        document["first"] = f"{collection_id}?page=1"
    return document


def render_collection_page(
    collection_id: str, page: int, items: list[Any], *, has_next: bool, total: int
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": items,
    }
    if has_next:
        document["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        document["prev"] = f"{collection_id}?page={page - 1}"
    return document
