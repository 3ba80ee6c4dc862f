"""The stand-in third-party API: pages, keys, rate limits and slow resources, as lesson 11's handlers meet them."""
import json
import urllib.error
import urllib.request

import pytest

from gluelab import webapi


def get(api, path, key="secret"):
    request = urllib.request.Request(api.url + path, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


@pytest.fixture
def api():
    api = webapi.StandInAPI({"items": [{"id": i} for i in range(7)]}, api_key="secret", page_size=3)
    yield api
    api.stop()


def test_pages_follow_next_until_every_record_is_read(api):
    seen, path = [], "/items"
    while path:
        status, _, body = get(api, path)
        assert status == 200 and body["total"] == 7
        seen += body["data"]
        path = body["next"][len(api.url):] if body["next"] else None
    assert seen == [{"id": i} for i in range(7)]
    assert [page for _, page, _ in api.calls] == [1, 2, 3]


def test_a_request_without_the_key_is_refused(api):
    status, _, body = get(api, "/items", key="wrong")
    assert status == 401 and "API key" in body["error"]


def test_unknown_resources_and_bad_pages_say_what_is_wrong(api):
    assert get(api, "/nothing")[2] == {"error": "no such resource: /nothing", "resources": ["items"]}
    assert get(api, "/items?page=0")[0] == 400
    assert get(api, "/items?per_page=500")[0] == 400


def test_over_the_rate_limit_the_answer_is_429_with_retry_after():
    api = webapi.StandInAPI({"items": [{"id": 1}]}, api_key="secret", rate_limit=2, rate_window=60)
    try:
        assert [get(api, "/items")[0] for _ in range(3)] == [200, 200, 429]
        status, headers, body = get(api, "/items")
        assert status == 429 and int(headers["Retry-After"]) >= 1 and body["error"] == "rate limit exceeded"
    finally:
        api.stop()


def test_the_shop_api_serves_the_bundled_shop_data():
    api = webapi.shop_api(api_key="secret")
    try:
        status, _, body = get(api, "/orders?per_page=2")
        assert status == 200 and body["total"] == 1305
        assert set(body["data"][0]) == {"order_id", "date", "product_id", "quantity", "customer_id"}
        customers = api.resources["customers"]
        assert len({c["customer_id"] for c in customers}) == len(customers)
    finally:
        api.stop()
