"""The console's playground in headless Chromium against the real worker: streamed chat (tokens
arrive in the page, Stop aborts, reasoning apart, tool calls), model output shown as text,
images, speech, transcription, and the copyable request."""
import io
import os
import subprocess
import sys
import time
import wave

from integration.console.conftest import screenshot, sign_in

LOCAL_KEY = "sk-local-dev"
ANSWER = ".turn.assistant .answer"


def ask(page, text: str, mode: str = "chat", model: str = None) -> None:
    page.select_option("#mode", mode)
    if model:
        page.select_option("#model", model)
    page.fill("#prompt", text)
    page.click("#send")


def finished(page) -> str:
    page.wait_for_function("() => /^(Done|Stopped)/.test(document.getElementById('status').textContent)"
                           " || document.getElementById('status').classList.contains('error')")
    return page.text_content("#status")


def test_chat_streams_tokens_into_the_page(page):
    sign_in(page, LOCAL_KEY)
    assert page.input_value("#model") == "gpt-4o-mini"
    ask(page, "[[words:12]] [[delay:150]] stream to me")
    seen = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not page.text_content("#status").startswith("Done"):
        text = page.text_content(ANSWER) or ""
        if text and text not in seen:
            seen.append(text)
        time.sleep(0.05)
    assert page.text_content(ANSWER) == " ".join(f"w{i}" for i in range(1, 13))
    assert len(seen) >= 4, seen  # the answer grew while the stream was open, not all at once
    assert all(later.startswith(earlier) for earlier, later in zip(seen, seen[1:]))
    assert "prompt +" in page.text_content("#status")  # usage from stream_options.include_usage
    screenshot(page, "playground-chat")


def test_stop_aborts_the_request(page):
    sign_in(page, LOCAL_KEY)
    ask(page, "[[words:200]] [[delay:100]] a long answer")
    page.wait_for_function(f"() => (document.querySelector('{ANSWER}').textContent || '').length > 6")
    page.click("#stop")
    assert finished(page) == "Stopped."
    stopped = page.text_content(ANSWER)
    time.sleep(0.6)
    assert page.text_content(ANSWER) == stopped and "w200" not in stopped
    assert page.is_enabled("#send") and not page.is_enabled("#stop")


def test_reasoning_is_shown_apart_from_the_answer(page):
    sign_in(page, LOCAL_KEY)
    ask(page, "why is the sky blue", model="gpt-4.1-mini")  # glm-4.7-flash: a reasoning model
    assert finished(page).startswith("Done")
    assert page.text_content(".reasoning-text") == "Thinking about: why is the sky blue"
    assert page.text_content(ANSWER) == "Echo: why is the sky blue"
    screenshot(page, "playground-reasoning")


def test_tool_calls_are_shown(page):
    sign_in(page, LOCAL_KEY)
    page.fill("#tools", '[{"type": "function", "function": {"name": "get_weather", "description": "Weather",'
                        ' "parameters": {"type": "object", "properties": {"city": {"type": "string",'
                        ' "description": "City"}}, "required": ["city"]}}}]')
    ask(page, "[[call]] weather in Paris?", model="gpt-4o")
    assert finished(page).startswith("Done (tool_calls)")
    calls = page.text_content(".tool-calls")
    assert '"name": "get_weather"' in calls and '"arguments":' in calls


def test_invalid_tools_json_is_reported_before_sending(page):
    sign_in(page, LOCAL_KEY)
    page.fill("#tools", "[{not json")
    ask(page, "hi")
    assert page.text_content("#status").startswith("Tools are not valid JSON")
    assert page.query_selector(".turn") is None


def test_model_output_is_never_markup(page):
    sign_in(page, LOCAL_KEY)
    attack = '<script>window.pwned=1</script> <img src=x onerror="window.pwned=2"> <b>bold</b>'
    ask(page, attack)
    assert finished(page).startswith("Done")
    answers = page.query_selector_all(ANSWER)
    assert answers[-1].text_content() == f"Echo: {attack}"  # shown as the characters it is made of
    assert page.evaluate(f"() => [...document.querySelectorAll('{ANSWER}')].map(a => a.children.length)") == [0]
    assert page.evaluate("() => [...document.querySelectorAll('#transcript .answer')].map(a => a.children.length)") == [0, 0]
    assert page.evaluate("() => document.querySelectorAll('#transcript img, #transcript script, #transcript b').length") == 0
    assert page.evaluate("() => window.pwned") is None


def test_image_generation_is_rendered(page):
    sign_in(page, LOCAL_KEY)
    ask(page, "a lighthouse at dawn", mode="images")
    assert finished(page) == "Done: 1 image(s)."
    page.wait_for_function("() => { const i = document.querySelector('img.generated');"
                           " return i && i.complete && i.naturalWidth > 0; }")
    assert page.get_attribute("img.generated", "alt") == "a lighthouse at dawn"
    screenshot(page, "playground-image")


def test_speech_plays_in_an_audio_player(page):
    sign_in(page, LOCAL_KEY)
    ask(page, "Hello from the console.", mode="speech")
    done = finished(page)
    assert done.startswith("Done: ") and done.endswith(" bytes of audio/mpeg.") and int(done.split()[1]) > 100
    assert page.get_attribute("audio", "src").startswith("blob:")  # the page's own copy (CSP: media-src blob:)


def test_transcription_of_an_uploaded_file(page, tmp_path):
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000), w.writeframes(b"\x01\x00" * 16000)
    (tmp_path / "one-second.wav").write_bytes(out.getvalue())
    sign_in(page, LOCAL_KEY)
    page.select_option("#mode", "transcription")
    assert page.input_value("#model") == "whisper-1"
    page.set_input_files("#audio-file", str(tmp_path / "one-second.wav"))
    page.click("#send")
    assert finished(page) == "Done."
    assert page.text_content(".turn.assistant .answer") == "Audio of 1.00 seconds."


def test_copy_as_python_runs_and_copy_as_curl_has_the_request(page, server):
    sign_in(page, LOCAL_KEY)
    page.fill("#system", "Be brief.")
    page.fill("#temperature", "0.5")
    page.fill("#prompt", "[[words:3]] from a snippet")
    page.click("#copy-curl")
    snippet = page.text_content("#snippet")
    assert snippet.startswith(f"curl {server.url}/v1/chat/completions --no-buffer")
    assert '-H "Authorization: Bearer $OPENAI_API_KEY"' in snippet and '"temperature": 0.5' in snippet
    page.click("#copy-python")
    code = page.text_content("#snippet")
    assert LOCAL_KEY not in code + snippet + page.content()  # the key is never written into the page
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "OPENAI_API_KEY": LOCAL_KEY})
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "w1 w2 w3", "")
