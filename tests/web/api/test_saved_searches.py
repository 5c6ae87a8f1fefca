"""``/api/v1/saved-searches``: saved with checked parameters, listed, deleted; a member's own."""

from __future__ import annotations

from tests.web.api.conftest import Api


def test_saved_searches_through_the_api(api: Api) -> None:
    made = api.client.post(
        "/api/v1/saved-searches",
        json={"name": "Youth", "q": "mentoring", "theme": ["social-inclusion"], "validated": False},
        headers=api.auth("anna"),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["query"] == {
        "q": ["mentoring"],
        "theme": ["social-inclusion"],
        "validated": ["false"],
    }
    assert made.headers["location"].endswith(f"/api/v1/saved-searches/{body['id']}")
    assert "/api/v1/offers/search?q=mentoring&theme=social-inclusion" in body["results"]
    listed = api.client.get("/api/v1/saved-searches", headers=api.auth("anna")).json()
    assert [item["name"] for item in listed["items"]] == ["Youth"]
    bad = api.client.post(
        "/api/v1/saved-searches",
        json={"name": "", "theme": ["nothing"], "colour": "red"},
        headers=api.auth("anna"),
    )
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"colour"}
    bad = api.client.post(
        "/api/v1/saved-searches", json={"name": "", "theme": ["nothing"]}, headers=api.auth("anna")
    )
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"name", "theme"}
    path = f"/api/v1/saved-searches/{body['id']}"
    assert api.client.delete(path, headers=api.auth("anna")).status_code == 204
    assert api.client.delete(path, headers=api.auth("anna")).status_code == 404
    assert api.client.get("/api/v1/saved-searches").status_code == 401
