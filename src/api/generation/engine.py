"""Running a plan: the Workers AI calls of its choices, whole or streamed, their answers normalised
and checked, and the usage recorded exactly once however the generation ends. What comes out is
neutral — Generations, or a ChoiceStream of deltas and finishes — for each API to frame."""
from typing import List

from api import tasks, usage
from api.errors import ModelOutputError
from api.generation import forcing
from api.generation.choices import ChoiceStream, WholeChoice, stop_whole, tool_ids
from api.generation.outputs import Generation, NewId, StreamedGeneration, generation
from api.generation.plan import Plan
from api.ports import Deps
from api.usage import Meter, Usage


def finish(result: Generation, plan: Plan, new_id: NewId) -> Generation:
    """Stop sequences, and the checks the model's own modes cannot guarantee."""
    result = stop_whole(result, plan.stops)
    if plan.single_call:
        result.tool_calls = result.tool_calls[:1]
    if plan.forced is not None:
        result = forcing.check(result, plan.forced, plan.spec.id, new_id)
    if plan.check_json and result.finish_reason != "length" and not result.tool_calls:
        plan.check_json(result.text or "")
    return result


async def _choice(plan: Plan, deps: Deps, inputs: dict, estimate: int, new_id: NewId, spent: List[Usage]):
    """One choice's checked result. A forced call the model did not make properly is asked for
    once more (the client would retry anyway); the usage of every attempt is paid for."""
    attempts, mine = 2 if plan.forced is not None else 1, []
    for attempt in range(1, attempts + 1):
        result = generation(await deps.ai.run(plan.spec.id, inputs, plan.options), plan.spec, plan.limit,
                            estimate, new_id)
        mine.append(result.usage)
        spent.append(result.usage)
        try:
            checked = finish(result, plan, new_id)
        except ModelOutputError as exc:
            if attempt == attempts:
                raise ModelOutputError(f"{exc.message[:-1]}, also when asked again.", code=exc.code) from None
            continue
        checked.usage = sum(mine, Usage())
        return checked


async def whole(plan: Plan, deps: Deps, meter: Meter) -> List[Generation]:
    """Every choice's whole result. The tokens are paid for whether or not the checks pass, so
    the usage of every attempt is recorded, once all have ended, before any failure is raised."""
    new_id = tool_ids(deps)
    spent: List[Usage] = []
    outcomes = await tasks.gather(*(_choice(plan, deps, inputs, estimate, new_id, spent)
                                    for inputs, estimate in zip(plan.calls, plan.prompt_estimates)),
                                  return_exceptions=True)
    if spent:
        usage.record(meter, deps, plan.spec.id, sum(spent, Usage()))
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes


async def stream(plan: Plan, deps: Deps, meter: Meter) -> ChoiceStream:
    """The choices as a stream. Upstream failures to start are raised here, before the caller has
    sent anything; later ones are raised by the stream's events."""
    if plan.whole:
        return ChoiceStream([WholeChoice(r) for r in await whole(plan, deps, meter)], plan.stops)
    new_id = tool_ids(deps)
    answers = await tasks.gather(*(deps.ai.stream(plan.spec.id, {**inputs, "stream": True}, plan.options)
                                   for inputs in plan.calls))
    choices = []
    for answer, estimate in zip(answers, plan.prompt_estimates):
        if isinstance(answer, dict):  # a model that answered the stream request whole
            choices.append(WholeChoice(finish(generation(answer, plan.spec, plan.limit, estimate, new_id),
                                              plan, new_id)))
        else:
            choices.append(StreamedGeneration(answer, plan.spec, plan.limit, estimate, new_id))
    return ChoiceStream(choices, plan.stops, lambda used: usage.record(meter, deps, plan.spec.id, used))
