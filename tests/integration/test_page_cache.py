"""Rendered list pages are cached between commits (src/api/page_cache.c): a page repeated
while nothing changed is served from memory, and every commit makes it stale at once — a write
through the API, a write by another process on the database file (SQLite: seen through the
WAL index), a token revoked. A cached page is only ever served to the authorization it was
rendered for: another organization's token, a revoked token, or another page or filter never
gets it.
"""
import json
import unittest
import uuid

from agyn_testlib import ServerTestCase


def names(resp):
    return [item["name"] for item in resp.json["items"]]


class PageCacheTest(ServerTestCase):
    def setUp(self):
        suffix = uuid.uuid4().hex[:12]
        self.a = self.server.new_org(f"cache-a-{suffix}")
        self.b = self.server.new_org(f"cache-b-{suffix}")

    def add_agent(self, org, name):
        resp = org.owner.post(org.path("/agents"), {"name": name, "image": "busybox:1"})
        self.assertEqual(resp.status, 201, resp)
        return resp.json["id"]

    def list(self, client, org, query="?page_size=50"):
        resp = client.get(org.path("/agents") + query)
        self.assertEqual(resp.status, 200, resp)
        return resp

    def test_a_write_through_the_api_shows_at_once(self):
        self.add_agent(self.a, "one")
        for _ in range(3):  # rendered, then served from the cache
            self.assertEqual(names(self.list(self.a.owner, self.a)), ["one"])
        agent = self.add_agent(self.a, "two")
        self.assertEqual(names(self.list(self.a.owner, self.a)), ["one", "two"])
        resp = self.a.owner.patch(self.a.path(f"/agents/{agent}"), {"description": "changed"})
        self.assertEqual(resp.status, 200, resp)
        items = self.list(self.a.owner, self.a).json["items"]
        self.assertEqual(items[1]["description"], "changed")
        self.assertEqual(self.a.owner.delete(self.a.path(f"/agents/{agent}")).status, 204)
        self.assertEqual(names(self.list(self.a.owner, self.a)), ["one"])

    def test_a_write_by_another_process_shows_at_once(self):
        agent = self.add_agent(self.a, "outside")
        before = self.list(self.a.owner, self.a)
        self.assertEqual(before.json["items"][0]["description"], "")
        self.list(self.a.owner, self.a)  # cached now
        # Another process writes the database directly (no API call, no notification).
        self.server.sql("UPDATE agents SET description = ? WHERE id = ?", ("from outside", agent))
        after = self.list(self.a.owner, self.a)
        self.assertEqual(after.json["items"][0]["description"], "from outside")
        self.server.sql("DELETE FROM agents WHERE id = ?", (agent,))
        self.assertEqual(names(self.list(self.a.owner, self.a)), [])

    def test_pages_are_cached_apart(self):
        for name in ("p1", "p2", "p3"):
            self.add_agent(self.a, name)
        first = self.list(self.a.owner, self.a, "?page_size=2")
        self.assertEqual(names(first), ["p1", "p2"])
        token = first.json["next_page_token"]
        second = self.list(self.a.owner, self.a, f"?page_size=2&page_token={token}")
        self.assertEqual(names(second), ["p3"])
        self.assertEqual(names(self.list(self.a.owner, self.a, "?page_size=1")), ["p1"])
        self.assertEqual(names(self.list(self.a.owner, self.a, "?page_size=2")), ["p1", "p2"])

    def test_filters_are_cached_apart(self):
        first, second = self.add_agent(self.a, "f1"), self.add_agent(self.a, "f2")
        for agent, name in ((first, "tools-1"), (second, "tools-2")):
            resp = self.a.owner.post(self.a.path("/mcps"),
                                     {"agent_id": agent, "name": name, "image": "busybox:1"})
            self.assertEqual(resp.status, 201, resp)
        for _ in range(2):
            for agent, expected in ((first, ["tools-1"]), (second, ["tools-2"]),
                                    (None, ["tools-1", "tools-2"])):
                query = f"?agent_id={agent}" if agent else ""
                resp = self.a.owner.get(self.a.path("/mcps") + query)
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(names(resp), expected)

    def test_another_organization_never_gets_the_page(self):
        self.add_agent(self.a, "secret-of-a")
        self.add_agent(self.b, "of-b")
        for _ in range(2):
            self.assertEqual(names(self.list(self.a.owner, self.a)), ["secret-of-a"])
            self.assertEqual(names(self.list(self.b.owner, self.b)), ["of-b"])
        # B's tokens asking for A's page: not found, as without a cache.
        for client in (self.b.owner, self.b.member):
            resp = client.get(self.a.path("/agents?page_size=50"))
            self.assertEqual(resp.status, 404, resp)
            self.assertNotIn("secret-of-a", resp.body)
        # A's member sees A's page (rendered for it), never B's.
        self.assertEqual(names(self.list(self.a.member, self.a)), ["secret-of-a"])
        resp = self.a.member.get(self.b.path("/agents?page_size=50"))
        self.assertEqual(resp.status, 404, resp)
        self.assertNotIn("of-b", resp.body)

    def test_a_revoked_token_is_refused_at_once(self):
        self.add_agent(self.a, "kept")
        made = self.server.admin().post(self.a.path("/tokens"), {"name": "short", "role": "member"})
        self.assertEqual(made.status, 201, made)
        short = self.a.owner.with_token(made.json["token"])
        for _ in range(3):
            self.assertEqual(names(self.list(short, self.a)), ["kept"])
        resp = self.a.owner.delete(self.a.path(f"/tokens/{made.json['id']}"))
        self.assertEqual(resp.status, 204, resp)
        resp = short.get(self.a.path("/agents?page_size=50"))
        self.assertEqual(resp.status, 401, resp)
        self.assertNotIn("kept", resp.body)
        # The token list page itself changed with the revocation.
        tokens = self.a.owner.get(self.a.path("/tokens")).json["items"]
        self.assertNotIn(made.json["id"], [t["id"] for t in tokens])

    def test_the_cached_body_is_the_rendered_one(self):
        for i in range(30):
            self.add_agent(self.a, f"bulk-{i:02d}")
        rendered = self.list(self.a.owner, self.a)
        cached = self.list(self.a.owner, self.a)
        self.assertEqual(rendered.body, cached.body)
        self.assertEqual(cached.headers.get("Content-Type"), "application/json")
        self.assertEqual(cached.headers.get("Cache-Control"), "no-store")
        self.assertEqual(len(json.loads(cached.body)["items"]), 30)


if __name__ == "__main__":
    unittest.main()
