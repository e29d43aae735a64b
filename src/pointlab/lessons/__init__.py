"""Lessons: the book's chapters as guided tasks, with goals checked on the engine over seeds.

Read in this order:

1. `goals.py`: a goal, e.g. `train_acc >= 0.9 and val_acc <= 0.7`, parsed by its own small grammar
   (nothing in a lesson file runs as code).
2. `lesson.py`: the lesson file (TOML, English and Japanese) and its errors, one line naming the
   file and the line; `files/` holds the lessons shipped with pointlab.
3. `setups.py`: a lesson's playground settings made into points and training configs.
4. `check.py`: a setup trained with several seeds as one population, and how many meet the goal.

The format is documented in `docs/lessons.md`. Not here: the command (`pointlab.cli.lesson_cmd`).
"""
