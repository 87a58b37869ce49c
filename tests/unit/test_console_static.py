"""The console's static files (console/): no inline script or style, no event-handler attributes,
nothing that parses strings as markup or code, only this origin in the CSP; the API is not
routed through the asset lookup."""
import pathlib
import re
import tomllib

import pytest

from api.routes import ROUTES

CONSOLE = pathlib.Path(__file__).resolve().parents[2] / "console"
SCRIPTS = sorted((CONSOLE / "static").glob("*.js"))
# Ways a string becomes markup or code in a page.
SINKS = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
                   r"setTimeout\(\s*['\"`]|srcdoc|createContextualFragment|DOMParser")


def test_there_are_scripts_to_check():
    assert {p.name for p in SCRIPTS} >= {"app.js", "api.js", "dom.js", "playground.js", "usage.js", "keys.js"}


def test_the_page_has_no_inline_script_style_or_handlers():
    html = (CONSOLE / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"<style\b|\sstyle=|\son\w+=|javascript:", html, re.I)
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from another origin


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_scripts_never_turn_strings_into_markup_or_code(path):
    assert SINKS.findall(path.read_text()) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_scripts_only_talk_to_this_origin(path):
    assert re.findall(r"https?://(?!www\.w3\.org/2000/svg)", path.read_text()) == []


def test_the_policy_allows_this_origin_only_and_no_framing():
    headers = (CONSOLE / "_headers").read_text()
    policy = re.search(r"Content-Security-Policy: (.*)", headers)[1]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert not [d for d in directives.values() if "unsafe" in d or "http" in d or "*" in d]
    assert "X-Frame-Options: DENY" in headers


def test_the_api_goes_to_the_worker_first_and_no_console_file_shadows_it():
    # run_worker_first spares every API request the asset lookup (an RPC to the asset worker).
    config = tomllib.loads((CONSOLE.parent / "wrangler.toml").read_text())
    assert config["assets"] == {"directory": "console", "run_worker_first": ["/v1/*"]}
    assert all(route.template.startswith("/v1/") for route in ROUTES)
    assert not (CONSOLE / "v1").exists()
