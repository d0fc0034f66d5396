"""The engines: the same mathematics played one run at a time (Mesa) or many at once (batch).

=============== ==============================================================
module          what it holds
=============== ==============================================================
``mesa_model``  ``NegotiationModel`` and ``StateAgent`` (Mesa 3.5), with the decision hook
``batch``       ``run_batch`` (many runs at once), ``run_mesa``, ``simulate`` (branching)
``tables``      the result tables both engines produce
=============== ==============================================================
"""

from __future__ import annotations

import sys


def progress_bar(**kwargs):
    """A tqdm progress bar: the notebook's in a Jupyter kernel, else the terminal's.

    ``tqdm.auto`` chooses the same, and adds asynchronous iteration, which no bar here
    uses: importing it imports asyncio, 0.05 s of a command's start.
    """
    if "ipykernel" in sys.modules:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(**kwargs)
