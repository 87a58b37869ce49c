"""Fixtures of the console tests: keys of each kind, and headless Debian Chromium driven by
Playwright (never a downloaded browser), a fresh context (profile) per test, with a screenshot
of each page kept in the git-ignored screenshots/ folder."""
import pathlib

import pytest
from playwright.sync_api import sync_playwright

from integration.devserver import ROOT, keys

CHROMIUM = "/usr/bin/chromium"  # Debian's package (scripts/setup.sh installs it)
# Without the background-networking flags Chromium keeps calling Google's hosts, refused here.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "screenshots"


@pytest.fixture(scope="module")
def browser():
    # Playwright gives every launch a new empty --user-data-dir of its own. Module scope: its sync
    # API keeps an event loop running in this thread while it is open (asyncio.run elsewhere fails).
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    problems = []
    # CSP violations and script errors are failures: the page must run under its own policy.
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" and "401" not in m.text
              and "403" not in m.text else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    context.close()
    assert problems == []


@pytest.fixture(scope="module")
def member(server, request) -> dict:
    """A fresh non-admin key of its own project: its usage and objects start empty."""
    project = f"{request.module.__name__}-project"
    return {**keys(server, "create", "--name", f"{request.module.__name__} member", "--project", project),
            "project": project}


@pytest.fixture(scope="module")
def admin(server, request) -> dict:
    return keys(server, "create", "--name", f"{request.module.__name__} admin", "--admin")


def sign_in(page, key: str) -> None:
    page.goto("/")
    page.fill("#signin-key", key)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("body[data-ready=playground]")


def visit(page, name: str) -> None:
    """Opens a console page and waits until it has loaded its data."""
    page.click(f"#nav a[href='#{name}']")
    page.wait_for_selector(f"body[data-ready={name}]")


def screenshot(page, name: str) -> pathlib.Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
