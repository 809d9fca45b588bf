"""Every local href and src in the site's pages points at a file that exists."""

from html.parser import HTMLParser
from pathlib import Path

SITE = Path(__file__).resolve().parent.parent


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value and "://" not in value and not value.startswith("#"):
                self.targets.append(value)


def test_every_local_link_resolves():
    pages = sorted(SITE.glob("*.html"))
    assert pages
    for page in pages:
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        missing = [target for target in parser.targets if not (SITE / target).is_file()]
        assert not missing, f"{page.name} links to missing files: {missing}"
