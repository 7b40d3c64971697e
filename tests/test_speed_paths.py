"""The cheap paths that keep big batches and start-up fast, checked for what they must still do."""

from __future__ import annotations

import asyncio

from mocli.commands.track import _Lines


class CountingStream:
    def __init__(self) -> None:
        self.writes: list[str] = []
        self.flushes = 0

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        self.flushes += 1


def test_ndjson_results_arriving_together_share_one_write_and_later_ones_still_stream():
    out = CountingStream()
    lines = _Lines(out, every=0.01)

    async def batch() -> list[int]:
        seen = []
        for n in range(3):  # three results within the interval
            lines.add(f'{{"n": {n}}}\n')
            await asyncio.sleep(0)
        seen.append(len(out.writes))  # nothing written yet: still gathering
        await asyncio.sleep(0.05)  # past the interval: the batch so far is out, before the run ends
        seen.append(len(out.writes))
        lines.add('{"n": 3}\n')
        await asyncio.sleep(0.05)
        seen.append(len(out.writes))
        lines.add('{"n": 4}\n')  # the last result: the run ends before its interval does
        return seen

    assert asyncio.run(batch()) == [0, 1, 2]
    lines.flush()  # what the command does after the loop (and on Ctrl-C)
    assert out.writes == ['{"n": 0}\n{"n": 1}\n{"n": 2}\n', '{"n": 3}\n', '{"n": 4}\n']
    assert out.flushes == 3
    lines.flush()
    assert len(out.writes) == 3  # nothing pending, nothing written


def test_ndjson_batch_output_is_every_result_once_in_completion_order(cli, monkeypatch):
    from mocli.tracking.detect import ups_check

    numbers = [f"1Z999AA1{i:09d}" for i in range(30)]
    numbers = [n + str(ups_check(n[2:])) for n in numbers]
    r = cli("track", "-", "--format", "ndjson", stdin="\n".join(numbers) + "\n")
    import json

    lines = [json.loads(x) for x in r.out.splitlines()]
    assert sorted(o["tracking_number"] for o in lines) == sorted(numbers)
