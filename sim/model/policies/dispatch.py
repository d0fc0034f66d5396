"""Compiled dispatch from a policy's number to its ``probabilities`` function.

Built from the registry: every file in this folder is imported and its rule's
compiled function is called from one ``if code == …`` chain, generated here in
:data:`~sim.model.policies.POLICIES` order when a kernel that uses
:func:`policy_probabilities` is compiled. The chain calls each rule directly (no
function pointers), so the compiler can inline it; adding a rule adds a branch
without touching any code.
"""

from __future__ import annotations

from numba.core.extending import overload

from sim.model.policies import POLICIES, policy_class

#: The compiled ``probabilities`` of every registered policy, in code order.
KERNELS = tuple(policy_class(name).probabilities for name in POLICIES)


def chain_source(n: int) -> str:
    """The source of the dispatch chain over ``n`` policies.

    Example:
        >>> print(chain_source(2))
        def dispatch(code, ctx, utility, out):
            if code == 0:
                rule0(ctx, utility, out)
            elif code == 1:
                rule1(ctx, utility, out)
    """
    lines = ["def dispatch(code, ctx, utility, out):"]
    for i in range(n):
        lines.append(f"    {'if' if i == 0 else 'elif'} code == {i}:")
        lines.append(f"        rule{i}(ctx, utility, out)")
    return "\n".join(lines)


def policy_probabilities(code, ctx, utility, out):
    """Fill ``out`` with the action probabilities of policy number ``code`` (compiled code only)."""
    raise TypeError("policy_probabilities is compiled into the engines; call it from a @kernel")


@overload(policy_probabilities, inline="always")
def _policy_probabilities(code, ctx, utility, out):
    namespace = {f"rule{i}": fn for i, fn in enumerate(KERNELS)}
    exec(chain_source(len(KERNELS)), namespace)  # noqa: S102 - our own generated chain, no input
    return namespace["dispatch"]
