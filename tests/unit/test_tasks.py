"""api.tasks.gather: asyncio.gather's results and errors, a lone awaitable run in the calling task."""
import asyncio

import pytest

from api import tasks
from unit.support import run


async def _task():
    return asyncio.current_task()


async def _fail():
    raise ValueError("no")


def test_a_lone_awaitable_runs_in_the_calling_task():
    async def main():
        [inner] = await tasks.gather(_task())
        return inner is asyncio.current_task()
    assert run(main())


def test_several_run_side_by_side_in_order():
    async def main():
        return await tasks.gather(*(asyncio.sleep(0.01 * (3 - i), result=i) for i in range(3)))
    assert run(main()) == [0, 1, 2]


@pytest.mark.parametrize("count", [1, 2])
def test_errors_are_raised_or_returned_as_gather_does(count):
    with pytest.raises(ValueError):
        run(tasks.gather(*(_fail() for _ in range(count))))
    outcomes = run(tasks.gather(*(_fail() for _ in range(count)), return_exceptions=True))
    assert [type(o) for o in outcomes] == [ValueError] * count
