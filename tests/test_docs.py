"""The README fits on a few screens, and every relative link of README.md, docs/*.md and the
presets' model cards leads somewhere: the file exists, and an anchor (#section) names a heading
of the page it points to."""
import glob
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README_MAX_LINES = 250

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target); the text may wrap onto the next line.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def pages():
    return ([os.path.join(ROOT, "README.md")]
            + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
            + sorted(glob.glob(os.path.join(ROOT, "dkd_tf", "presets", "*", "README.md"))))


def _prose(text):
    """The page without code blocks and inline code, where a link is not a link."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def anchors(path):
    """GitHub's heading anchors of a page: lower case, punctuation dropped, spaces to hyphens;
    a repeated heading gets -1, -2, ..."""
    seen, out = {}, set()
    for title in HEADING.findall(FENCE.sub("", open(path).read())):
        slug = re.sub(r"[^\w\- ]", "", title.replace("`", "").lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def relative_links(path):
    for target in LINK.findall(_prose(open(path).read())):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            continue
        yield target


class DocsTest(unittest.TestCase):

    def test_readme_fits_on_a_few_screens(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            lines = f.read().splitlines()
        self.assertLessEqual(len(lines), README_MAX_LINES)

    def test_every_relative_link_points_to_a_file_that_exists(self):
        broken = []
        for page in pages():
            for target in relative_links(page):
                file_part, _, anchor = target.partition("#")
                dest = os.path.normpath(os.path.join(os.path.dirname(page), file_part)) \
                    if file_part else page
                where = f"{os.path.relpath(page, ROOT)}: ({target})"
                if not os.path.exists(dest):
                    broken.append(f"{where}: no such file")
                elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                    broken.append(f"{where}: no heading with that anchor")
        self.assertEqual(broken, [])

    def test_the_link_check_sees_links(self):
        # The checks above pass trivially when nothing is found: the README links every docs page.
        targets = set(relative_links(os.path.join(ROOT, "README.md")))
        for page in glob.glob(os.path.join(ROOT, "docs", "*.md")):
            self.assertTrue(any(t.split("#")[0] == f"docs/{os.path.basename(page)}"
                                for t in targets), page)
        self.assertLessEqual({"what-make-demo-printed",
                              "where-the-missing-points-are-leftright-identity"},
                             anchors(os.path.join(ROOT, "docs", "experiments.md")))


if __name__ == "__main__":
    unittest.main()
