"""Reading a page the way a person does, with the standard library's HTML parser: its title,
headings, links, form fields and the text of any element (no regular expressions over markup)."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    """One element: its tag, attributes, children (elements and strings)."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"

    def elements(self):
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.elements()

    def text(self) -> str:
        """The text inside, with whitespace collapsed."""
        parts: list[str] = []
        for child in self.children:
            parts.append(child.text() if isinstance(child, Element) else child)
        return " ".join(" ".join(parts).split()).replace("\u2011", "-")  # a no-break hyphen reads as a hyphen

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str | bool) -> list[Element]:
        """Elements by tag, class and attributes (`data_x` means `data-x`; True means present)."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [
            e
            for e in self.elements()
            if (tag is None or e.tag == tag)
            and (cls is None or e.has_class(cls))
            and all(
                (name in e.attrs) if value is True else e.attrs.get(name) == value for name, value in wanted.items()
            )
        ]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str | bool) -> Element | None:
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, {name: value or "" for name, value in attrs}, self.current))

    def handle_endtag(self, tag):
        open_element: Element | None = self.current
        while open_element is not None and open_element.tag != tag:
            open_element = open_element.parent
        if open_element is not None and open_element.parent is not None:
            self.current = open_element.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def page(response) -> Element:
    """The response's page as a tree."""
    return parse(response.get_data(as_text=True))


def title(doc: Element) -> str:
    element = doc.find("title")
    return element.text() if element else ""


def h1(doc: Element) -> str:
    element = doc.find("h1")
    return element.text() if element else ""


def links(doc: Element) -> dict[str, str]:
    """Link text -> address."""
    return {a.text(): a.attrs.get("href", "") for a in doc.find_all("a")}


def notices(doc: Element) -> list[str]:
    """The texts of the page's notices (flashed messages and the like)."""
    return [p.text() for p in doc.find_all(cls="notice")]
