"""End to end: `mocli new-case --no-input --json` against a local server playing Shopify and UPS.

The real CLI runs in a subprocess with a user settings.toml (MOCLI_CONFIG_DIR) that points the
Shopify and UPS adapters at 127.0.0.1; the case must come out stored, with its facts' sources.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

from fixtures.crm.harness import load
from fixtures.crm.localserver import LocalServer
from mocli.providers.crm.shopify import API_VERSION

NUMBER = "1Z4E57A20368154024"


def ups_delivered() -> dict:
    """A UPS Track API answer in its documented shape: delivered to the front door, photo taken."""
    return {"trackResponse": {"shipment": [{"inquiryNumber": NUMBER, "package": [{
        "trackingNumber": NUMBER,
        "deliveryDate": [{"type": "DEL", "date": "20261124"}],
        "deliveryTime": {"type": "DEL", "endTime": "143200"},
        "currentStatus": {"type": "D", "statusCode": "011", "description": "Delivered"},
        "deliveryInformation": {"location": "Front Door", "receivedBy": "",
                                "deliveryPhoto": {"photo": "", "photoCaptureInd": "Y", "photoDispositionCode": "V"}},
        "activity": [
            {"date": "20261124", "time": "143200", "gmtOffset": "-05:00",
             "location": {"address": {"city": "New York", "stateProvince": "NY", "country": "US"}},
             "status": {"type": "D", "statusCode": "011", "code": "KB", "description": "DELIVERED"}},
            {"date": "20261124", "time": "081500", "gmtOffset": "-05:00",
             "location": {"address": {"city": "New York", "stateProvince": "NY", "country": "US"}},
             "status": {"type": "O", "statusCode": "021", "code": "OT", "description": "Out For Delivery Today"}},
            {"date": "20261118", "time": "221000", "gmtOffset": "-05:00",
             "location": {"address": {"city": "Secaucus", "stateProvince": "NJ", "country": "US"}},
             "status": {"type": "I", "statusCode": "005", "code": "AR", "description": "Arrived at Facility"}},
        ]}]}]}}


def route(req):
    if req.path == f"/admin/api/{API_VERSION}/graphql.json":
        if req.headers.get("X-Shopify-Access-Token") != "shpat_e2e":
            return 401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
        query = req.json()["query"]
        if "customers(" in query:
            return 200, load("shopify_customers_one.json")
        if "orders(" in query:
            body = copy.deepcopy(load("shopify_orders_one.json"))
            live = body["data"]["orders"]["nodes"][0]["fulfillments"][1]
            live.update(displayStatus="DELIVERED", deliveredAt="2026-11-24T19:32:00Z")
            return 200, body
    if req.path == "/security/v1/oauth/token" and req.method == "POST":
        return 200, {"token_type": "Bearer", "access_token": "ups-e2e-token", "expires_in": "14399",
                     "status": "approved"}
    if req.path == f"/api/track/v1/details/{NUMBER}":
        if req.headers.get("Authorization") != "Bearer ups-e2e-token":
            return 401, {"response": {"errors": [{"code": "250002", "message": "Invalid Authentication Information."}]}}
        return 200, ups_delivered()
    return 404, {"errors": "Not Found"}


def mocli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mocli", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_new_case_from_shopify_and_ups_to_a_stored_case(mocli_env):
    with LocalServer(route) as srv:
        (mocli_env["conf"] / "settings.toml").write_text(f"""
[providers]
customers = "shopify"
orders = "shopify"

[providers.tracking]
default = "ups"

[providers.settings.shopify]
base_url = "{srv.url}"
token_env = "E2E_SHOPIFY_TOKEN"
tier_tags = {{ VIP = "VIP" }}

[providers.settings.ups]
base_url = "{srv.url}"
client_id_env = "E2E_UPS_ID"
client_secret_env = "E2E_UPS_SECRET"
""", encoding="utf-8")
        env = {**os.environ, "E2E_SHOPIFY_TOKEN": "shpat_e2e", "E2E_UPS_ID": "id", "E2E_UPS_SECRET": "secret"}
        run = mocli("new-case", "--no-input", "--json", "--customer", "maya.okafor@example.com", "--order", "1042",
                    "--address-confirmed", "yes", "--received-by-someone-else", "no",
                    "--checked-drop-off-spots", "yes", "--theft-in-area", "no", "--package-found", "no", env=env)
        assert run.returncode == 0, run.stderr
        case = json.loads(run.stdout)

        assert case["customer"]["email"] == "maya.okafor@example.com" and case["customer"]["tier"] == "VIP"
        assert case["order"]["number"] == "#1042" and case["order"]["tracking_number"] == NUMBER
        assert case["tracking"]["status"] == "delivered"
        assert case["tracking"]["proof_of_delivery"]["photo_available"] is True
        assert case["sources"] == {"customer": "shopify", "order": "shopify", "tracking": "ups"}
        assert case["decision"]["action"] == "refund_or_replacement"  # VIP, delivered but not received
        assert case["decision"]["macro"] == "Retail::Missing Order – Remedy Offered"  # resolved once chosen

        stored = mocli("case", case["id"], "--json", env=env)
        assert stored.returncode == 0, stored.stderr
        assert json.loads(stored.stdout)["id"] == case["id"]

        paths = [(r.method, r.path) for r in srv.requests]
        assert paths.count(("POST", f"/admin/api/{API_VERSION}/graphql.json")) == 2
        assert paths.count(("POST", "/security/v1/oauth/token")) == 1
        assert ("GET", f"/api/track/v1/details/{NUMBER}") in paths
