"""Popular clients pointed at the worker with their defaults, as a new user would: LangChain
(embeddings, which send token ids, and structured output), LlamaIndex (chat, stream, embeddings),
instructor, and the OpenAI Agents SDK (over chat completions). Each is pinned in pyproject's dev
group (or dev-no-deps)."""
import gzip
import hashlib
import json
import math

import httpx
import instructor
import pytest
from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from llama_index.core.llms import ChatMessage
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI as LlamaIndexOpenAI
from openai import AsyncOpenAI
from pydantic import BaseModel

from api import token_ids

LOCAL_KEY = "sk-local-dev"
# tiktoken downloads its vocabulary from this URL on first use; offline it reads the cache instead.
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


@pytest.fixture(scope="module", autouse=True)
def tiktoken_cache(tmp_path_factory):
    """The vendored cl100k_base file where tiktoken (LangChain's tokenizer) looks before downloading."""
    cache = tmp_path_factory.mktemp("tiktoken")
    folder = token_ids.importlib.util.find_spec(token_ids.PACKAGE).submodule_search_locations[0]
    with open(f"{folder}/{token_ids.DATA_FILE}", "rb") as handle:
        (cache / hashlib.sha1(CL100K_URL.encode()).hexdigest()).write_bytes(gzip.decompress(handle.read()))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        yield


def unit(vector):
    norm = math.sqrt(sum(x * x for x in vector))
    return [round(x / norm, 6) for x in vector]


class City(BaseModel):
    name: str
    country: str
    population: int


def test_langchain_embeddings_with_defaults_send_token_ids(server, client):
    sent = []
    recorder = httpx.Client(event_hooks={"request": [lambda r: sent.append(json.loads(r.read()))]})
    embeddings = OpenAIEmbeddings(base_url=server.url + "/v1", api_key=LOCAL_KEY, http_client=recorder)
    query = embeddings.embed_query("The quick brown fox")
    documents = embeddings.embed_documents(["first document", "second document"])
    assert sent[0]["model"] == "text-embedding-ada-002"
    assert all(isinstance(ids, list) and all(isinstance(i, int) for i in ids) for ids in sent[0]["input"])
    assert (len(query), [len(d) for d in documents]) == (768, [768, 768])
    # The ids decode to the text: the vector is the one the text itself gets.
    direct = client.embeddings.create(model="text-embedding-ada-002", input="The quick brown fox").data[0].embedding
    assert unit(query) == unit(direct)


def test_langchain_structured_output(server):
    chat = ChatOpenAI(model="gpt-4o", base_url=server.url + "/v1", api_key=LOCAL_KEY, max_retries=0)
    city = chat.with_structured_output(City).invoke("Tell me about Oslo.")
    assert isinstance(city, City)
    called = chat.with_structured_output(City, method="function_calling").invoke("[[call]] Tell me about Oslo.")
    assert isinstance(called, City)


def test_llama_index_chat_stream_and_embeddings(server, client):
    llm = LlamaIndexOpenAI(model="gpt-4o-mini", api_base=server.url + "/v1", api_key=LOCAL_KEY, max_retries=0)
    assert llm.complete("complete me").text == "Echo: complete me"
    answer = llm.chat([ChatMessage(role="system", content="be brief"), ChatMessage(role="user", content="chat me")])
    assert answer.message.content == "Echo: chat me"
    deltas = [part.delta for part in llm.stream_chat([ChatMessage(role="user", content="stream me please")])]
    assert len([d for d in deltas if d]) > 1 and "".join(deltas) == "Echo: stream me please"  # in pieces
    embed = OpenAIEmbedding(model="text-embedding-3-small", api_base=server.url + "/v1", api_key=LOCAL_KEY,
                            max_retries=0)
    query = embed.get_query_embedding("The quick brown fox")
    documents = embed.get_text_embedding_batch(["first document", "second document"])
    assert [len(d) for d in documents] == [len(query)] * 2
    direct = client.embeddings.create(model="text-embedding-3-small", input="The quick brown fox").data[0].embedding
    assert unit(query) == unit(direct)


def test_instructor_extracts_a_model(client):
    patched = instructor.from_openai(client)
    city = patched.chat.completions.create(model="gpt-4o", response_model=City, max_retries=0,
                                           messages=[{"role": "user", "content": "[[call]] Oslo, please."}])
    assert isinstance(city, City)
    json_mode = instructor.from_openai(client, mode=instructor.Mode.JSON_SCHEMA)
    assert isinstance(json_mode.chat.completions.create(model="gpt-4o", response_model=City, max_retries=0,
                                                        messages=[{"role": "user", "content": "Oslo."}]), City)


def test_agents_sdk_runs_a_tool_over_chat_completions(server):
    set_tracing_disabled(True)  # traces would go to OpenAI's servers

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"Sunny in {city}"

    model = OpenAIChatCompletionsModel(model="gpt-4o", openai_client=AsyncOpenAI(
        base_url=server.url + "/v1", api_key=LOCAL_KEY, max_retries=0))
    agent = Agent(name="weather", instructions="Answer with the tool.", tools=[get_weather], model=model)
    result = Runner.run_sync(agent, "[[call]] What is the weather in Paris?")
    assert result.final_output.startswith("Tool said: Sunny in ")
