"""A page or, for htmx swapping part of it, only one block of the same template (jinja2-fragments)."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request
from jinja2_fragments.flask import render_block


def is_fragment_request() -> bool:
    """htmx swapping part of the page (not a history restore, which wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Request-Type", "partial") != "full"
        and not request.headers.get("HX-History-Restore-Request")
    )


def current_url() -> str:
    """This request's address as the browser should show it (htmx pushes or replaces it): the path
    under the app's script root, with the query, without a bare trailing '?'."""
    return request.script_root + request.full_path.rstrip("?")


def whole_page(url: str):
    """Send the browser to another page as a whole page: a 303, or for htmx (which would follow a
    redirect and swap the page into the block it asked for) HX-Redirect, read only on a 2xx."""
    if is_fragment_request():
        return current_app.response_class(status=200, headers={"HX-Redirect": url})
    return redirect(url, 303)


def page_or_fragment(
    template: str,
    block: str,
    status: int = 200,
    push_url: str | None = None,
    replace_url: str | None = None,
    page_template: str | None = None,
    **values,
):
    """The whole page (`page_template`, by default the same template), or for htmx only `block` of `template`,
    with the URL htmx should push or replace."""
    if not is_fragment_request():
        return render_template(page_template or template, fragment=False, **values), status
    response = current_app.response_class(render_block(template, block, fragment=True, **values), status=status)
    if push_url:
        response.headers["HX-Push-Url"] = push_url
    if replace_url:
        response.headers["HX-Replace-Url"] = replace_url
    return response
