"""HTML mail bodies as readable plain text, with the stdlib's html.parser only.

Nothing is ever fetched: images become `[image: alt]`, links keep their text and show the
address after it. Scripts, styles and the head are dropped; block elements start new lines,
list items get bullets, `<pre>` keeps its spacing. Never raises on broken markup.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "blockquote", "table", "tr",
    "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "center", "form", "dl", "dt", "dd",
}  # fmt: skip
_SKIP = {"script", "style", "head", "title", "template", "noscript", "svg"}
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n\s*\n\s*\n+")
_LEADING_SPACE = re.compile(r"(?m)^ (?=\S)")
MAX_HTML = 4 * 1024 * 1024
"""Longer HTML is cut before parsing: the preview needs the beginning, fast."""


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0
        self.href: list[str | None] = []
        self.link_text: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in _SKIP:
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n  • ")
        elif tag in ("td", "th"):
            self.out.append("  ")
        elif tag == "pre":
            self.pre += 1
            self.out.append("\n")
        elif tag == "img":
            alt = (values.get("alt") or "").strip()
            self.out.append(f"[image: {alt}]" if alt else "[image]")
        elif tag == "a":
            self.href.append(values.get("href"))
            self.link_text.append(len(self.out))
        if tag in _BLOCK:
            self.out.append("\n\n" if tag in ("p", "h1", "h2", "h3", "blockquote") else "\n")
        if tag == "hr":
            self.out.append("―" * 20 + "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self.out.append("\n")
        elif tag == "a" and self.href:
            href, start = self.href.pop(), self.link_text.pop()
            text = "".join(self.out[start:]).strip()
            if href and href.startswith(("http:", "https:", "mailto:")):
                shown = href.removeprefix("mailto:")
                if shown not in text:
                    self.out.append(f" <{shown}>")
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.out.append(data if self.pre else _SPACES.sub(" ", data.replace("\n", " ")))


def html_to_text(html: str) -> str:
    """Readable text from an HTML body; the best it can when the markup is broken."""
    maker = _TextMaker()
    try:
        maker.feed(html[:MAX_HTML])
        maker.close()
    except Exception:  # html.parser is lenient, but an odd declaration can still assert
        pass
    text = "\n".join(line.rstrip() for line in "".join(maker.out).split("\n"))
    text = _LEADING_SPACE.sub("", text)  # the space left where a line break was collapsed
    return _BLANKS.sub("\n\n", text).strip("\n") + "\n"
