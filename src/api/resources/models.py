"""GET /v1/models and /v1/models/{model}: catalog models and the configured aliases (for a key
with a model list, only those it may use)."""
from api import catalog, limits
from api.errors import ModelNotFound
from api.ports import Deps
from api.web import ApiRequest, ApiResponse


def model_object(model_id: str, spec) -> dict:
    """OpenAI's model object; for models we know, also what they can do (extra fields the SDKs
    keep in model_extra): the task, the context window and the features."""
    found = {"id": model_id, "object": "model", "created": catalog.CREATED,
             "owned_by": spec.owned_by if spec else "cloudflare"}
    if spec:
        found.update(task=spec.task, workers_ai_model=spec.id, context_window=spec.context,
                     features=sorted(spec.features))
    return found


def _objects(req: ApiRequest, deps: Deps) -> dict:
    allowed = req.key.limits if req.key else None
    objects = {m.id: model_object(m.id, m) for m in catalog.MODELS if limits.allows(allowed, m.id, deps)}
    for alias, target in catalog.aliases(deps.config.model_aliases).items():
        if limits.allows(allowed, target, deps):
            objects[alias] = model_object(alias, catalog.BY_ID.get(target))
    return objects


async def list_models(req: ApiRequest, deps: Deps) -> ApiResponse:
    return ApiResponse({"object": "list", "data": list(_objects(req, deps).values())})


async def retrieve_model(req: ApiRequest, deps: Deps) -> ApiResponse:
    name = req.params["model"]
    found = _objects(req, deps).get(name)
    if found is None:
        catalog.ensure_current(name, name)
        raise ModelNotFound(name)
    return ApiResponse(found)
