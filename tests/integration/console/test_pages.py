"""The console's pages in headless Chromium: sign-in (the key stays out of the page and cookies),
usage chart and table that follow new requests, stored objects with their JSON, and keys (refused
to a non-admin key; created once, limited and revoked by an admin key)."""
import io
import json
import time

import openai
import pytest
from playwright.sync_api import expect

from integration.console.conftest import screenshot, sign_in, visit
from integration.devserver import fresh_minute, sdk

LOCAL_KEY = "sk-local-dev"


def test_sign_in_refuses_a_bad_key_and_keeps_a_good_one_out_of_the_page(page, member):
    page.goto("/")
    screenshot(page, "sign-in")
    page.fill("#signin-key", "sk-wo-not-a-key")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#signin-error:has-text('That key was refused.')")
    sign_in(page, member["key"])
    assert page.text_content("#whoami") == f"{member['id']} · project {member['project']}"
    assert member["key"] not in page.content()
    assert page.evaluate("() => document.cookie") == ""
    assert page.evaluate("() => sessionStorage.getItem('workers-openai.key')") == member["key"]
    page.reload()  # the session survives a reload of the tab
    page.wait_for_selector("body[data-ready=playground]")
    page.click("#sign-out")
    page.wait_for_selector("#signin:not([hidden])")
    assert page.evaluate("() => sessionStorage.length") == 0


def chart_total(page) -> int:
    return int(page.get_attribute("#usage-chart svg.chart", "data-total"))


def test_usage_chart_follows_new_requests(page, server, member):
    sign_in(page, member["key"])
    visit(page, "usage")
    before = chart_total(page)
    assert before == 0  # a fresh project
    reply = sdk(server, member["key"]).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "[[words:7]] count me"}])
    deadline = time.monotonic() + 20
    while chart_total(page) == before and time.monotonic() < deadline:  # the Queue delivers within seconds
        page.click("#usage-refresh")
        time.sleep(0.5)
    assert chart_total(page) == before + 1
    assert page.locator("svg.chart rect.bar").count() >= 1
    summary = page.text_content("#usage-summary")
    assert summary.startswith(f"{before + 1} requests") and f"{reply.usage.completion_tokens} completion" in summary
    cells = page.locator("#usage-table tbody tr").first.locator("td").all_text_contents()
    assert cells[1:] == ["@cf/meta/llama-3.1-8b-instruct-fast", str(before + 1),
                         str(reply.usage.prompt_tokens), str(reply.usage.completion_tokens)]
    page.select_option("#usage-metric", "tokens")
    assert chart_total(page) == reply.usage.prompt_tokens + reply.usage.completion_tokens  # before: none
    screenshot(page, "usage")


def test_stored_objects_link_to_their_json(page, server, member, tmp_path):
    client = sdk(server, member["key"])
    (tmp_path / "notes.txt").write_text("console notes")
    uploaded = client.files.create(file=(tmp_path / "notes.txt").open("rb"), purpose="assistants")
    store = client.vector_stores.create(name="console <b>store</b>")
    response = client.responses.create(model="gpt-4o-mini", input="keep me")
    sign_in(page, member["key"])
    visit(page, "stored")
    page.click(f"button.link:has-text('{uploaded.id}')")
    page.wait_for_selector("#stored-json:has-text('\"filename\": \"notes.txt\"')")
    assert page.text_content("#stored-json").startswith(f"GET /v1/files/{uploaded.id}\n")
    assert page.locator("#stored-lists td:has-text('console <b>store</b>')").count() == 1  # a name is text
    page.click(f"button.link:has-text('{store.id}')")
    page.wait_for_selector(f"#stored-json:has-text('\"id\": \"{store.id}\"')")
    page.click(f"button.link:has-text('{response.id}')")
    page.wait_for_selector("#stored-json:has-text('\"output_text\"')")
    assert page.text_content("#stored-json").startswith(f"GET /v1/responses/{response.id}\n")
    screenshot(page, "stored")


def test_batches_and_stored_chat_completions_link_to_their_json(page, server, member):
    client = sdk(server, member["key"])
    stored = client.chat.completions.create(model="gpt-4o-mini", store=True,
                                            messages=[{"role": "user", "content": "<img src=x onerror=alert(1)>"}])
    unstored = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "not kept"}])
    line = {"custom_id": "c1", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "batched"}]}}
    lines = client.files.create(file=("lines.jsonl", io.BytesIO(json.dumps(line).encode() + b"\n")), purpose="batch")
    batch = client.batches.create(input_file_id=lines.id, endpoint="/v1/chat/completions", completion_window="24h")
    sign_in(page, member["key"])
    visit(page, "stored")
    batches = page.locator(".card", has=page.locator("h2", has_text="Batches"))
    cells = batches.locator("tbody tr").first.locator("td").all_text_contents()  # status: whatever it is now
    assert (cells[:2], cells[3]) == ([batch.id, "/v1/chat/completions"], lines.id)
    completions = page.locator(".card", has=page.locator("h2", has_text="Chat completions"))
    assert completions.locator("tbody td:first-child").all_text_contents() == [stored.id]  # store: true only
    assert unstored.id not in page.text_content("#stored-lists")
    page.click(f"button.link:has-text('{batch.id}')")
    page.wait_for_selector(f"#stored-json:has-text('\"input_file_id\": \"{lines.id}\"')")
    assert page.text_content("#stored-json").startswith(f"GET /v1/batches/{batch.id}\n")
    page.click(f"button.link:has-text('{stored.id}')")
    page.wait_for_selector("#stored-json:has-text('\"object\": \"chat.completion\"')")
    assert page.text_content("#stored-json").startswith(f"GET /v1/chat/completions/{stored.id}\n")
    assert "Echo: <img src=x onerror=alert(1)>" in page.text_content("#stored-json")  # as text
    assert page.locator("#stored-json img").count() == 0
    screenshot(page, "stored-batches")


def test_keys_page_is_refused_to_a_key_that_is_not_admin(page, member):
    sign_in(page, member["key"])
    visit(page, "keys")
    assert page.text_content("#keys-error") == ("Refused: Managing API keys needs an admin key "
                                                "(scripts/keys.py create --admin).")
    assert page.is_hidden("#key-form") and page.locator("#keys-table tr").count() == 0
    screenshot(page, "keys-refused")


def test_admin_creates_a_key_once_and_revokes_it(page, server, admin):
    sign_in(page, admin["key"])
    assert page.text_content("#whoami").endswith(" · admin")
    visit(page, "keys")
    page.fill("#key-name", "made in the console")
    page.fill("#key-project", "console-made")
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#key-created:not([hidden])")
    secret = page.text_content("#key-secret")
    assert secret.startswith("sk-wo-")
    assert [m.id for m in sdk(server, secret).models.list()][:1]  # the new key works
    row = page.locator("#keys-table tbody tr", has_text="made in the console")
    screenshot(page, "keys")
    page.click("#key-done")
    assert page.text_content("#key-secret") == "" and secret not in page.content()  # shown once
    row.locator("button.danger").click()
    row.locator("button:has-text('Really revoke?')").click()
    page.wait_for_selector("#keys-table tr.revoked:has-text('made in the console')")


def test_admin_limits_a_new_key_to_one_request_a_minute(page, server, admin):
    sign_in(page, admin["key"])
    visit(page, "keys")
    page.fill("#key-name", "limited in the console")
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#key-created:not([hidden])")
    secret = page.text_content("#key-secret")
    page.click("#key-done")
    row = page.locator("#keys-table tbody tr", has_text="limited in the console")
    expect(row.locator("td.limits")).to_have_text("none")
    row.locator("button.edit-limits").click()
    page.fill("#limit-requests_per_minute", "1")
    page.fill("#limit-models", "gpt-4o-mini, text-embedding-3-small")
    screenshot(page, "keys-limits")
    page.click("#limits-form button[type=submit]")
    page.wait_for_selector("#limits-form", state="hidden")
    expect(row.locator("td.limits")).to_have_text("1/min · models: gpt-4o-mini, text-embedding-3-small")
    client = sdk(server, secret)
    fresh_minute()
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "first"}])
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "second"}])
    assert (refused.value.status_code, refused.value.code) == (429, "rate_limit_exceeded")
