"""The worker boots under wrangler dev and answers through the official SDK."""


def test_models_list_through_sdk(client):
    ids = [m.id for m in client.models.list()]
    assert "gpt-4o-mini" in ids and "@cf/meta/llama-3.3-70b-instruct-fp8-fast" in ids


def test_chat_completion_through_sdk(client):
    reply = client.chat.completions.create(model="gpt-4o-mini",
                                           messages=[{"role": "user", "content": "hello there"}])
    assert reply.choices[0].message.content == "Echo: hello there"
    assert reply.usage.completion_tokens == 3
