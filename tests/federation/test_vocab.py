"""Reading addressing: the public collection in every form servers write it."""

from __future__ import annotations

import random
from typing import Any

from fedi.federation.vocab import PUBLIC, ids_of, is_public

_FORMS = [PUBLIC, "Public", "as:Public"]


def _by_ids(document: dict[str, Any]) -> bool:
    """The definition: any id of ``to``, ``cc`` or ``audience`` is a form of the public one."""
    return any(
        ident in _FORMS for key in ("to", "cc", "audience") for ident in ids_of(document.get(key))
    )


def test_public_in_each_form_and_shape() -> None:
    assert is_public({"to": PUBLIC})
    assert is_public({"cc": ["https://a.test/followers", "as:Public"]})
    assert is_public({"audience": {"id": "Public", "type": "Collection"}})
    assert not is_public({"to": ["https://a.test/followers"], "cc": None})
    assert not is_public({"to": [{"id": ["as:Public"]}], "cc": [["Public"]], "bto": PUBLIC})


def test_public_agrees_with_its_definition_on_generated_documents() -> None:
    rng = random.Random(29)
    atoms: list[Any] = [*_FORMS, "https://a.test/followers", "", None, 3, {"id": "as:Public"}]
    atoms += [{"id": None}, {"id": ["Public"]}, {"type": "Collection"}, ["as:Public"], {}]
    seen = {True: 0, False: 0}
    for _ in range(5000):
        document: dict[str, Any] = {}
        for key in ("to", "cc", "audience", "bcc"):
            if rng.random() < 0.5:
                many = [rng.choice(atoms) for _ in range(rng.randint(0, 3))]
                document[key] = many if rng.random() < 0.5 else rng.choice(atoms)
        expected = _by_ids(document)
        assert is_public(document) == expected, document
        seen[expected] += 1
    assert min(seen.values()) > 500
