"""Hostile HTML mail (`tests/fixtures/xss/`, one vector family per file) imported through the
HTTP import of a live server, read back through `GET /api/messages/{id}` and loaded into
headless Chromium: no payload may run (no dialog, no `window.__xss`, no console line from a
payload, no navigation, no script fetched) and nothing able to run may be left in the DOM;
the benign formatting around the vectors survives. A first test loads the same vectors
unsanitised, to prove the harness sees them."""

from __future__ import annotations

import contextlib
import email
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.fixtures.server import LiveServer, make_person

if TYPE_CHECKING:
    from playwright.async_api import Browser, Dialog, Page, Request, Route

XSS_DIR = Path(__file__).parent / "fixtures" / "xss"
VECTORS = {path.name: path.read_bytes() for path in sorted(XSS_DIR.glob("*.eml"))}
ACCOUNT = "support@acme.test"
PLAIN_ONLY = "23-html-in-plain-text-part.eml"
BENIGN = "26-benign-formatting.eml"

# Fire what an inline handler could wait for, follow every link that is not plain web or
# mail (javascript:, data:, vbscript: …), press every button; forms never submit.
POKE = """() => {
  window.addEventListener('submit', (event) => event.preventDefault(), true);
  const kinds = ['mouseover', 'mouseenter', 'mousemove', 'mousedown', 'mouseup', 'pointerover',
    'focus', 'focusin', 'blur', 'toggle', 'animationstart', 'load', 'error', 'input', 'change'];
  for (const element of document.querySelectorAll('*')) {
    for (const kind of kinds) element.dispatchEvent(new Event(kind, {bubbles: true}));
    if (typeof element.focus === 'function') element.focus();
  }
  for (const link of document.querySelectorAll('a[href], area[href]')) {
    let scheme = '';
    try { scheme = new URL(link.href).protocol; } catch (error) { scheme = ''; }
    if (!['http:', 'https:', 'mailto:', 'about:', ''].includes(scheme)) link.click();
  }
  for (const button of document.querySelectorAll('button, input, summary')) button.click();
}"""

# What is left in the DOM that could run or send the reader elsewhere, whether it ran or not.
STATIC = """() => {
  const found = [];
  const banned = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet',
    'base', 'link', 'param', 'portal']);
  const urlish = new Set(['href', 'xlink:href', 'src', 'action', 'formaction', 'data', 'poster',
    'background', 'codebase', 'srcset', 'lowsrc', 'dynsrc', 'ping', 'to', 'from', 'values',
    'by', 'cite', 'longdesc', 'manifest', 'icon']);
  const squash = (value) => value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
  const roots = [document];
  for (let i = 0; i < roots.length; i++) {
    for (const element of roots[i].querySelectorAll('*')) {
      if (element.content instanceof DocumentFragment) roots.push(element.content);
      if (element.shadowRoot) roots.push(element.shadowRoot);
      const tag = element.localName;
      if (banned.has(tag)) found.push(`<${tag}> element`);
      if (tag === 'meta' && element.hasAttribute('http-equiv')) found.push('<meta http-equiv>');
      if (tag === 'style' && /javascript:|expression\\(|-moz-binding|behavior:/.test(
          squash(element.textContent))) found.push('<style> with script');
      for (const attribute of element.attributes) {
        const name = attribute.name.toLowerCase();
        const value = squash(attribute.value);
        if (name.startsWith('on')) found.push(`${tag} ${name}=`);
        if (name === 'srcdoc') found.push(`${tag} srcdoc=`);
        if (name === 'style' && /javascript:|expression\\(|-moz-binding|behavior:/.test(value)) {
          found.push(`${tag} style=${value}`);
        }
        if (urlish.has(name) || tag === 'set' || tag === 'animate') {
          const image = tag === 'img' && name === 'src' &&
            /^data:image\\/(png|gif|jpeg|webp);/.test(value);
          if (/(^|[\\s,])(javascript|vbscript|livescript):/.test(value) ||
              (value.startsWith('data:') && !image)) {
            found.push(`${tag} ${name}=${value.slice(0, 40)}`);
          }
        }
      }
    }
  }
  return found;
}"""


async def findings(browser: Browser, html: str) -> list[str]:
    """Everything the page shows of a payload having run, or being able to run."""
    from playwright.async_api import Error as PlaywrightError

    found: list[str] = []
    page: Page = await browser.new_page()

    async def on_dialog(dialog: Dialog) -> None:
        found.append(f"{dialog.type} dialog: {dialog.message}")
        with contextlib.suppress(PlaywrightError):  # gone already, with its page or frame
            await dialog.dismiss()

    async def refuse(route: Route) -> None:
        await route.abort()

    def on_request(request: Request) -> None:
        if request.resource_type in ("script", "document") or "evil.invalid" in request.url:
            found.append(f"{request.resource_type} request: {request.url}")

    page.on("dialog", on_dialog)
    page.on("console", lambda line: found.extend([f"console: {line.text}"] * ("XSS" in line.text)))
    page.on("request", on_request)
    await page.route("**/*", refuse)
    try:
        await page.set_content(html, wait_until="load", timeout=10_000)
        await page.evaluate(POKE)
        await page.wait_for_timeout(300)
        for frame in page.frames:
            if await frame.evaluate("() => window.__xss !== undefined"):
                found.append(f"window.__xss set in {frame.url}")
        found += await page.evaluate(STATIC)
    except PlaywrightError as exc:  # the page navigated away under the harness
        found.append(f"page error: {exc.message.splitlines()[0]}")
    if page.url != "about:blank":
        found.append(f"navigated to {page.url}")
    await page.close()
    return found


def raw_html(raw: bytes) -> str | None:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(preferencelist=("html",))
    return None if part is None else str(part.get_content())


async def test_the_harness_sees_every_vector_when_nothing_is_sanitised(browser: Browser) -> None:
    assert len(VECTORS) >= 20
    ran = 0
    for name, raw in VECTORS.items():
        html = raw_html(raw)
        if name == PLAIN_ONLY:
            assert html is None
            continue
        assert html is not None, name
        seen = await findings(browser, html)
        if name == BENIGN:
            assert seen == [], seen
            continue
        assert seen, f"{name}: the harness does not notice this vector"
        ran += any("dialog" in line or "__xss" in line for line in seen)
    assert ran >= 15, f"only {ran} vectors ran unsanitised"


@pytest.mark.parametrize("storage_settings", ["sqlite"], indirect=True)
async def test_no_vector_runs_after_the_import(browser: Browser, live_server: LiveServer) -> None:
    owner = await make_person(live_server.services, "owner@acme.test", role="owner")
    await live_server.services.storage.create_account(
        owner.org.id, ACCOUNT, owner.user.id, "inbox", None, []
    )
    failures: dict[str, list[str]] = {}
    async with live_server.client(owner.token) as http:
        for name, raw in VECTORS.items():
            message = await _import(http, name, raw)
            html = message["html"]
            if name == PLAIN_ONLY:
                assert html is None, f"{name}: a text/plain mail got html {html!r}"
                continue
            assert isinstance(html, str), f"{name}: no html"
            if seen := await findings(browser, html):
                failures[name] = seen
            text = await _body_text(browser, html)
            assert f"marker-{name[:2]}" in text, f"{name}: the benign paragraph is gone: {html!r}"
            if name == BENIGN:
                await _check_benign(browser, html)
    assert failures == {}, "\n".join(f"{name}: {seen}" for name, seen in failures.items())


async def _import(http: httpx.AsyncClient, name: str, raw: bytes) -> dict[str, Any]:
    answer = await http.post(
        f"/api/admin/accounts/{ACCOUNT}/import",
        content=raw,
        headers={"content-type": "message/rfc822"},
    )
    assert answer.status_code == 200, f"{name}: {answer.text}"
    result = answer.json()
    assert result["imported"] == 1, f"{name}: {result}"
    [conv_id] = result["conversations"]
    page = await http.get(f"/api/conversations/{conv_id}/messages")
    assert page.status_code == 200, page.text
    wanted = f"xss-{name[:2]}@evil.invalid"
    [listed] = [m for m in page.json()["messages"] if m["message_id"].strip("<>") == wanted]
    answer = await http.get(f"/api/messages/{listed['id']}")
    assert answer.status_code == 200, answer.text
    message: dict[str, Any] = answer.json()["message"]
    return message


async def _body_text(browser: Browser, html: str) -> str:
    page = await browser.new_page()
    await page.route("**/*", lambda route: route.abort())
    await page.set_content(html)
    text: str = await page.evaluate("() => document.body ? document.body.textContent : ''")
    await page.close()
    return text


async def _check_benign(browser: Browser, html: str) -> None:
    page = await browser.new_page()
    await page.route("**/*", lambda route: route.abort())
    await page.set_content(html)
    shown = await page.evaluate(
        """() => ({
        bold: [...document.querySelectorAll('b')].map((e) => e.textContent),
        italic: document.querySelectorAll('i').length,
        cells: [...document.querySelectorAll('table td')].map((e) => e.textContent),
        items: document.querySelectorAll('ul li').length,
        link: [...document.querySelectorAll('a')].map((e) => e.getAttribute('href')),
        quote: document.querySelectorAll('blockquote').length,
        })"""
    )
    await page.close()
    assert "bold" in shown["bold"], shown
    assert shown["cells"] == ["cell A", "cell B"], shown
    assert (shown["italic"], shown["items"], shown["quote"]) == (1, 2, 1), shown
    assert "https://example.com/ok" in shown["link"], shown
