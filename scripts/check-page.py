#!/usr/bin/env python3
"""Checks one HTML page of Concord's as a reader sees it, in Debian's Chromium driven by Playwright.

    scripts/check-page.py PAGE.html LANG [--png FILE] [--expect TEXT ...]

Fails (exit 1, naming each problem) on:
  - a console message or an uncaught error;
  - <html lang> or dir other than LANG's (fa: rtl, else ltr);
  - in Persian, a Latin digit in the text a reader reads (names, codes and sources are kept in
    <bdi>, as they are written, and are not judged);
  - in Persian or Russian, a label left in English: a fragment of an English catalog message
    (Shared/ConcordWords/Catalog+English.swift) that the language translates, found in the page's
    text outside <bdi>, or a status chip still in Latin letters;
  - text that overflows its box: the page wider than the window, or a text of the chart outside
    the chart;
  - an expected text missing.
"""
import argparse
import pathlib
import re
import sys

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent


def catalog(name):
    """The messages of one catalog, by key."""
    text = (ROOT / "Shared" / "ConcordWords" / f"Catalog+{name}.swift").read_text(encoding="utf-8")
    messages = {}
    for key, value in re.findall(r'^\s+\.(\w+): "((?:[^"\\]|\\.)*)",$', text, flags=re.M):
        messages.setdefault(key, value.encode().decode("unicode_escape").encode("latin-1").decode("utf-8"))
    return messages


def english_fragments(language):
    """Pieces of English messages that the language writes otherwise: six letters or more, no
    placeholder, no plural marker."""
    english = catalog("English")
    other = catalog({"fa": "Persian", "ru": "Russian"}[language])
    fragments = set()
    for key, message in english.items():
        if other.get(key) == message:
            continue
        for form in message.split("|"):
            form = re.sub(r"^\w+=", "", form).replace("#", "{0}")
            for piece in re.split(r"\{\d\}", form):
                piece = piece.strip(" .,:;()—-–/")
                if len(re.sub(r"[^A-Za-z]", "", piece)) >= 6:
                    fragments.add(piece)
    return sorted(fragments, key=len, reverse=True)


READER_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('bdi, style, script')) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  return out;
}"""

OVERFLOW = """() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) problems.push(`the page is ${doc.scrollWidth}px wide in a ${window.innerWidth}px window`);
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const r = text.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1) problems.push(`chart text '${text.textContent}' runs outside the chart`);
    }
    const texts = [...svg.querySelectorAll('text.legend')].map(t => [t, t.getBoundingClientRect()]);
    for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
      const [a, ra] = texts[i], [b, rb] = texts[j];
      const overlap = ra.left < rb.right && rb.left < ra.right && ra.top < rb.bottom && rb.top < ra.bottom;
      if (overlap) problems.push(`chart legends '${a.textContent}' and '${b.textContent}' overlap`);
    }
  }
  for (const el of document.querySelectorAll('h1, h2, h3, p, li, .chip, small, figcaption, footer')) {
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') {
      problems.push(`'${el.textContent.slice(0, 40)}' overflows its box`);
    }
  }
  return problems;
}"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page")
    parser.add_argument("language", choices=["en", "fa", "ru"])
    parser.add_argument("--png")
    parser.add_argument("--expect", nargs="*", default=[])
    parser.add_argument("--width", type=int, default=1000)
    args = parser.parse_args()

    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": args.width, "height": 1400})
        page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}"))
        page.on("pageerror", lambda error: problems.append(f"uncaught error: {error}"))
        page.goto(pathlib.Path(args.page).resolve().as_uri())
        page.wait_for_load_state("load")

        lang = page.evaluate("document.documentElement.lang")
        direction = page.evaluate("document.documentElement.dir")
        expected_dir = "rtl" if args.language == "fa" else "ltr"
        if lang != args.language:
            problems.append(f"<html lang=\"{lang}\">, not \"{args.language}\"")
        if direction != expected_dir:
            problems.append(f"<html dir=\"{direction}\">, not \"{expected_dir}\"")

        reader_text = page.evaluate(READER_TEXT)
        if args.language == "fa":
            for text in reader_text:
                if re.search(r"[0-9]", text):
                    problems.append(f"a Latin digit in Persian text: '{text[:80]}'")
        if args.language in ("fa", "ru"):
            joined = "\n".join(reader_text)
            for fragment in english_fragments(args.language):
                if fragment in joined:
                    problems.append(f"a label left in English: '{fragment}'")
            for chip in page.eval_on_selector_all(".chip", "chips => chips.map(c => c.textContent)"):
                if re.search(r"[A-Za-z]", chip):
                    problems.append(f"a chip left in Latin letters: '{chip}'")

        problems += page.evaluate(OVERFLOW)

        body = page.inner_text("body")
        for text in args.expect:
            if text not in body:
                problems.append(f"the page lacks '{text}'")

        if args.png:
            page.screenshot(path=args.png, full_page=True)
        browser.close()

    for problem in problems:
        print(f"check-page: {args.page} ({args.language}): {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"check-page: {args.page} ({args.language}) reads right: lang and dir, digits, labels, no overflow, no console error")


if __name__ == "__main__":
    main()
