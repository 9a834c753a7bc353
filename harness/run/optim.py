"""The optimizer every training loop here uses: fine-tuning (harness/run/finetune.py) and koenbert's distillation.

AdamW without weight decay on biases and LayerNorm weights (the parameters that are vectors),
as BERT trains, and a linear schedule that warms up over the first share of the steps.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch


def adamw(parameters: Iterable[torch.nn.Parameter], *, lr: float, weight_decay: float, warmup_ratio: float,
          total_steps: int, device: torch.device, betas: tuple[float, float] = (0.9, 0.999)) -> tuple[torch.optim.Optimizer, Any]:
    """(AdamW, its linear schedule with warm-up) over ``parameters``; step the schedule once per optimizer step."""
    from transformers import get_linear_schedule_with_warmup

    decay, no_decay = [], []
    for param in parameters:
        (no_decay if param.ndim < 2 else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # fused: one kernel for every parameter; on CPU too it is ~50x faster than the per-tensor loop
    # (measured: 0.05 s against 2.5 s a step for all-MiniLM-L6-v2 on 2 cores)
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=betas, fused=device.type in ("cuda", "cpu"))
    return optimizer, get_linear_schedule_with_warmup(optimizer, math.ceil(warmup_ratio * total_steps), total_steps)
