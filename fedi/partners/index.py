"""How an offer is indexed for search: its texts in every language it is written in, and its
codes, each as the plain code (for the vocabulary labels a query spells) and once per filter.

Local and replicated offers are indexed the same way, while they are published; an offer that
leaves publication is taken out.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Offer
from fedi.partners.fields import OfferData
from fedi.search import index as search_index

__all__ = [
    "FILTERS",
    "KIND",
    "index_codes",
    "index_offer",
    "index_texts",
    "only_code",
    "unindex_offer",
]

KIND = "offer"

# The search filters, each the prefix of the codes an offer is indexed with.
FILTERS = (
    "purpose",
    "level",
    "cooperation",
    "objective",
    "theme",
    "target_group",
    "country",
    "countries_sought",
    "organisation_type",
    "role",
    "language",
    "status",
)


def index_codes(offer: Offer, data: OfferData) -> list[str]:
    """The codes ``offer`` (fields ``data``) is indexed with."""
    codes = [*data.codes["objectives"], *data.codes["themes"], *data.codes["target_groups"]]
    by_filter = {
        "cooperation": data.codes["cooperation"],
        "objective": data.codes["objectives"],
        "theme": data.codes["themes"],
        "target_group": data.codes["target_groups"],
        "countries_sought": data.codes["countries_sought"],
        "role": data.codes["roles_sought"],
        "language": data.codes["working_languages"],
        "purpose": [data.purpose],
        "level": [data.level],
        "country": [str(data.organisation["country"])],
        "organisation_type": [str(data.organisation["type"])],
        "status": [offer.status],
    }
    codes += [f"{name}:{code}" for name, values in by_filter.items() for code in values]
    # The offer itself, so that a query can be asked of one offer (a saved search's alert).
    codes.append(only_code(offer.id))
    return codes


def index_texts(data: OfferData) -> list[str]:
    """The texts of an offer the index reads: title, summary, description and keywords, and
    the texts of each translation."""
    texts = [data.title, data.summary, data.description, *data.codes["keywords"]]
    for version in data.translations.values():
        texts += [version["title"], version["summary"], version["description"]]
    return texts


def only_code(offer_id: int) -> str:
    """The code only offer ``offer_id`` is indexed with."""
    return f"ref:{offer_id}"


async def index_offer(session: AsyncSession, offer: Offer, data: OfferData) -> None:
    """Index (or re-index) ``offer`` with its fields ``data``."""
    texts = index_texts(data)
    await search_index.index_document(
        session,
        kind=KIND,
        ref=offer.id,
        fields={str(n): text for n, text in enumerate(texts)},
        language=data.language,
        codes=index_codes(offer, data),
    )


async def unindex_offer(session: AsyncSession, offer: Offer) -> None:
    await search_index.remove_document(session, KIND, offer.id)
