"""Running a plan: the Workers AI calls of its choices, whole or streamed, their answers normalised
and checked, and the usage recorded exactly once however the generation ends. What comes out is
neutral — Generations, or a ChoiceStream of deltas and finishes — for each API to frame."""
import asyncio
from typing import List

from api import usage
from api.errors import UpstreamError
from api.generation.choices import ChoiceStream, WholeChoice, stop_whole, tool_ids
from api.generation.outputs import Generation, NewId, StreamedGeneration, generation, recover_leaked_call
from api.generation.plan import Plan
from api.ports import Deps
from api.usage import Meter


def finish(result: Generation, plan: Plan, new_id: NewId) -> Generation:
    """Stop sequences, and the checks the model's own modes cannot guarantee."""
    result = stop_whole(result, plan.stops)
    if plan.single_call:
        result.tool_calls = result.tool_calls[:1]
    if plan.forced_tool is not None and not result.tool_calls:
        result = recover_leaked_call(result, plan.forced_tool, new_id)
    if plan.forced_tool is not None:
        names = [call.name for call in result.tool_calls]
        if not names or (plan.forced_tool and plan.forced_tool not in names):
            wanted = f"'{plan.forced_tool}'" if plan.forced_tool else "a tool"
            raise UpstreamError(f"{plan.spec.id} did not call {wanted} though tool_choice required it; "
                                "try again or use a model that enforces tool_choice.", code="tool_call_missing")
    if plan.check_json and result.finish_reason != "length" and not result.tool_calls:
        plan.check_json(result.text or "")
    return result


async def whole(plan: Plan, deps: Deps, meter: Meter) -> List[Generation]:
    """Every choice's whole result. The tokens are paid for whether or not the checks pass, so
    the usage is recorded before them."""
    new_id = tool_ids(deps)
    answers = await asyncio.gather(*(deps.ai.run(plan.spec.id, inputs, plan.options) for inputs in plan.calls))
    results = [generation(answer, plan.spec, plan.limit, estimate, new_id)
               for answer, estimate in zip(answers, plan.prompt_estimates)]
    usage.record(meter, deps, plan.spec.id, sum((r.usage for r in results), usage.Usage()))
    return [finish(result, plan, new_id) for result in results]


async def stream(plan: Plan, deps: Deps, meter: Meter) -> ChoiceStream:
    """The choices as a stream. Upstream failures to start are raised here, before the caller has
    sent anything; later ones are raised by the stream's events."""
    if plan.whole:
        return ChoiceStream([WholeChoice(r) for r in await whole(plan, deps, meter)], plan.stops)
    new_id = tool_ids(deps)
    answers = await asyncio.gather(*(deps.ai.stream(plan.spec.id, {**inputs, "stream": True}, plan.options)
                                     for inputs in plan.calls))
    choices = []
    for answer, estimate in zip(answers, plan.prompt_estimates):
        if isinstance(answer, dict):  # a model that answered the stream request whole
            choices.append(WholeChoice(finish(generation(answer, plan.spec, plan.limit, estimate, new_id),
                                              plan, new_id)))
        else:
            choices.append(StreamedGeneration(answer, plan.spec, plan.limit, estimate, new_id))
    return ChoiceStream(choices, plan.stops, lambda used: usage.record(meter, deps, plan.spec.id, used))
