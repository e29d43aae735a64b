"""The population engine, the spine of pointlab: M independent MLPs trained as one batched program.

Read it in this order; each file is one stage of a training step:

1. `models.py`: the parameters of all M members in one (M, P) tensor, each layer a view into it;
   forward is one `baddbmm` per layer.
2. `losses.py`: each member's mean loss from logits (BCE, softmax cross-entropy, MSE); the
   objective is their sum, so one backward pass gives every member its own exact gradient.
3. `optim.py`: SGD, momentum, Nesterov, Adam, AdamW, RMSprop with per-member hyperparameters.
4. `schedules.py`: learning-rate schedules as pure functions of the epoch, for all members at once.
5. `batches.py`: a member's minibatch order and dropout masks, pure functions of its seed and
   where training is (epoch, step).
6. `backprop.py`: the training step's forward and backward pass, written out for the MLP;
   `products.py`: its batched products, each in the orientation the CPU does fastest.
7. `padding.py`: members of different widths in one population, padded to the widest.
8. `population.py`: the device-side state of one population (parameters, optimizer, data, batches)
   and its training step.
9. `training.py`: the epoch, defined once: `Training` steps a population one epoch at a time
   (`step_epoch`, `measure`, `results`, `interrupt`); every front end that trains drives it.
10. `tracker.py`: the bookkeeping at logged epochs (history, best and last good weights, early
    stopping, divergence, collapse, pruning) and `MemberResult`.
11. `graphs.py`: on a GPU, each full-batch epoch replayed as CUDA graphs (a strategy of
    `training.py`).
12. `loop.py`: `train` and `train_population`, training to the end.
13. `memory.py`: the memory a population will take, estimated from its shapes; what cannot fit is
    refused before anything is allocated, and planners size populations by the same estimate.
14. `generative.py`: generative members (flow matching, DDPM): each step's noisy, embedded
    inputs and regression targets, drawn from the member's seed; `training.Training(generative=)`
    trains them in the same epoch, with the squared error of `losses.py`.

Not here: run directories and checkpoints (`pointlab.runs`, `pointlab.checkpoint`), searches
(`pointlab.search`), anything that prints (`pointlab.cli`).
"""

from pointlab.engine.loop import train, train_population
from pointlab.engine.memory import MemoryEstimate, check_memory, estimate_memory, members_that_fit
from pointlab.engine.tracker import METRICS, Callback, MemberResult
from pointlab.engine.training import PopulationInterrupted, Training, resolve_device

__all__ = [
    "METRICS",
    "Callback",
    "MemoryEstimate",
    "check_memory",
    "estimate_memory",
    "members_that_fit",
    "MemberResult",
    "PopulationInterrupted",
    "resolve_device",
    "Training",
    "train",
    "train_population",
]
