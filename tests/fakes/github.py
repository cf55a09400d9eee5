"""A fake GitHub on pytest-httpserver that answers like the real OAuth endpoints and REST API
(see shared/reference/providers.md §1): token errors come back as HTTP 200 with an `error` field,
a bad token gets 401 "Bad credentials"."""

import json
from urllib.parse import parse_qs, urlencode, urlsplit

from werkzeug import Response

PROFILE = {
    "login": "mira-okafor", "id": 48213907, "node_id": "U_kgDOAt13907", "type": "User",
    "user_view_type": "private", "site_admin": False, "name": "Mira Okafor", "company": "@tern-labs",
    "blog": "", "location": None, "email": None, "hireable": None, "bio": None,
    "twitter_username": None, "public_repos": 23, "followers": 41, "following": 17,
    "created_at": "2019-03-14T09:26:51Z", "updated_at": "2025-10-11T22:03:19Z",
}


class FakeGitHub:
    def __init__(self, httpserver):
        self.server = httpserver
        self.oauth_url = httpserver.url_for("/login/oauth").rstrip("/")
        self.api_url = httpserver.url_for("/api").rstrip("/")
        self.tokens: dict[str, dict] = {}  # access token -> profile

    def config(self) -> dict:
        return {"GITHUB_ID": "fake-client-id", "GITHUB_SECRET": "fake-client-secret",
                "GITHUB_OAUTH_URL": self.oauth_url, "GITHUB_API_URL": self.api_url}

    def grant(self, token: str = "gho_FakeToken0000000000000000000001", profile: dict | None = None) -> str:
        """Any code exchanges for `token`, which identifies `profile`."""
        self.tokens[token] = dict(PROFILE, **(profile or {}))
        self.server.expect_request("/login/oauth/access_token", method="POST").respond_with_json(
            {"access_token": token, "token_type": "bearer", "scope": "read:user"})
        self.server.expect_request("/api/user", method="GET").respond_with_handler(self._user)
        return token

    def token_error(self, error: str, description: str = "The code passed is incorrect or expired.") -> None:
        self.server.expect_request("/login/oauth/access_token", method="POST").respond_with_json(
            {"error": error, "error_description": description,
             "error_uri": f"https://docs.github.com/apps/troubleshooting/#{error}"})

    def authorize_page(self) -> None:
        """The authorize URL redirects straight back with a code, as GitHub does for an app already authorized."""
        def handler(request):
            args = request.args
            target = args["redirect_uri"] + "?" + urlencode({"code": "fake-code", "state": args["state"]})
            return Response(status=302, headers={"Location": target})
        self.server.expect_request("/login/oauth/authorize").respond_with_handler(handler)

    def _user(self, request):
        auth = request.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if " " in auth else ""
        if token not in self.tokens:
            return Response(json.dumps({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                                        "status": "401"}), status=401, content_type="application/json")
        return Response(json.dumps(self.tokens[token]), content_type="application/json")


def start_oauth(client) -> str:
    """Follow "Sign in with GitHub" to the authorize redirect and return the `state` GitHub would echo."""
    resp = client.get("/auth/github")
    assert resp.status_code == 302, resp.status_code
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["scope"] == ["read:user"]
    return query["state"][0]
