"""How long a learner waits for "Check": each lesson's setups over 5 seeds (-> LESSONS.md)

For every lesson, the setup a learner sees when the lesson opens, and the reference solution of
each task, are checked against the task's goal with 5 seeds trained as one population
(`pointlab.lessons.check.check`), in this process after one warm-up check, on one torch thread
(what `pointlab play` uses on a busy machine) and on two. The target (issue 23) is 5 seconds on
the 2-core machine. Prints a Markdown table; the machine and its load average go in front.

    uv run python benchmarks/lessons.py [--threads 1 2]
"""

from __future__ import annotations

import argparse
import os
import platform

import torch

from pointlab.lessons.check import check
from pointlab.lessons.lesson import load_folder, shipped_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    lessons, errors = load_folder(shipped_folder())
    assert not errors, errors
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f} at the start"
    )
    first = lessons[0]
    check(first.setup, first.tasks[0].goal, 5)  # warm-up: imports, allocator, first kernels
    columns = " | ".join(f"{t} thread{'s' * (t > 1)}" for t in args.threads)
    print(f"\n| lesson | setup checked | {columns} |")
    print("| --- | --- |" + " --- |" * len(args.threads))
    worst = {t: 0.0 for t in args.threads}
    for lesson in lessons:
        for task in lesson.tasks:
            for which, settings in (
                ("as the lesson opens", lesson.setup),
                ("the task's solution", task.settings(lesson.setup, "solution")),
            ):
                times = []
                for threads in args.threads:
                    torch.set_num_threads(threads)
                    seconds = check(settings, task.goal, 5).seconds
                    worst[threads] = max(worst[threads], seconds)
                    times.append(f"{seconds:.2f} s")
                print(f"| {lesson.name} / {task.name} | {which} | {' | '.join(times)} |")
    print("\nslowest: " + ", ".join(f"{t} thread(s) {s:.2f} s" for t, s in worst.items()))
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
