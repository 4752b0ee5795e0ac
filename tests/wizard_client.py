"""A buyer going through the wizard with plain form posts, as a browser without JavaScript does."""

import re

from tests.conftest import Browser, csrf_token

INPUT_NAME = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')


def form_html(html: str, action_end: str = "") -> str:
    """The step's form (the page also has the logout form); `action_end` picks e.g. the Save form."""
    pattern = r'<form method="post" action="/settings/account/subs/orders/[^"]*' + re.escape(action_end) + '"'
    found = re.search(pattern, html)
    start = found.start() if found else -1
    return html[start : html.find("</form>", start)] if start >= 0 else html


def hidden(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', html)


class Buyer(Browser):
    """Browser plus the wizard's moves: start an order, answer a step, save."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.posts: list[str] = []

    def start(self, kind: str) -> str:
        page = self.get("/settings/account/subs").get_data(as_text=True)
        response = self.client.post(
            "/settings/account/subs/orders", data={"csrf_token": csrf_token(page), "kind": kind}
        )
        assert response.status_code == 303, response.status_code
        self.draft_url = response.headers["Location"].rsplit("/", 1)[0]
        return response.headers["Location"]

    def step_url(self, key: str) -> str:
        return f"{self.draft_url}/{key}"

    def answer(self, key: str, data: dict, extra: dict | None = None):
        """Fill in the fields the page shows (follow-up questions included: they are all in the page)
        and post the step once, as a browser without JavaScript does."""
        page = self.get(self.step_url(key))
        assert page.status_code == 200, (key, page.status_code)
        html = page.get_data(as_text=True)
        form = form_html(html)
        names = set(INPUT_NAME.findall(form))
        if set(data) - names and 'name="_reveal" value="search"' in form:
            # What to pick is not listed yet (free numbers are looked up on demand): press Search first,
            # with the choice and search text filled in, as a buyer without JavaScript does.
            searched = self.post_step(key, self._filled(html, form, names, data, {"_reveal": "search"}))
            assert searched.status_code == 200, (key, searched.status_code)
            html = searched.get_data(as_text=True)
            form = form_html(html)
            names = set(INPUT_NAME.findall(form))
        return self.post_step(key, self._filled(html, form, names, data, extra))

    @staticmethod
    def _filled(html: str, form: str, names: set, data: dict, extra: dict | None) -> dict:
        post = {k: v for k, v in data.items() if k in names}
        post.update({"csrf_token": csrf_token(html), "version": hidden(form, "version")[0], **(extra or {})})
        return post

    def leave(self, key: str, data: dict, going: str, headers: dict | None = None):
        """Type into a step, then press Back (going="back") or "Save and finish later" ("later"): one post."""
        html = self.get(self.step_url(key)).get_data(as_text=True)
        post = {"csrf_token": csrf_token(html), "version": hidden(form_html(html), "version")[0], "_go": going, **data}
        self.posts.append(key)
        return self.client.post(self.step_url(key), data=post, headers=headers or {})

    def post_step(self, key: str, data: dict):
        """One POST of a step's form (counted: the journey tests check one per step)."""
        self.posts.append(key)
        return self.client.post(self.step_url(key), data=data)

    def save(self, accept_binding: bool = True):
        """Save from Check your answers, ticking "I accept the binding period" when the page asks for it."""
        page = self.get(self.step_url("review"))
        html = page.get_data(as_text=True)
        form = form_html(html, "/save")
        data = {"csrf_token": csrf_token(html), "version": hidden(form, "version")[0]}
        if accept_binding and "accept_binding" in INPUT_NAME.findall(form):
            data["accept_binding"] = "y"
        return self.client.post(f"{self.draft_url}/save", data=data)


def errors(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [
        re.sub(r"<[^>]+>", "", m).replace("Error:", "").strip()
        for m in re.findall(r'class="error-message"[^>]*>(.*?)</p>', html, re.S)
    ]
