"""The class mix of the training split before and after oversampling (or class weights), in one
sentence (the frame of its chart is :func:`recsys_core.charts.class_mix`)."""

from __future__ import annotations

from collections.abc import Mapping

from recsys_core.app.views._text import percent
from recsys_core.charts import stars

#: What the class weights cost with the recommended recipe, as measured (not promised):
#: benchmarks/class_weights.py on the demo data, seeds 42/1/2 (docs/objectives.md, "Class
#: multipliers as weights"). Hit rates at 10 on held-out products rated 4★+ (liked) and 2★ or
#: less (disliked).
WEIGHT_COSTS = (
    "What a setting cost, as measured on the demo data (3 trainings each, the top 10 of each "
    "customer against the product they rated next): with every class ×1 the top 10 held that "
    "product 21 % of the time, 23 % when the customer liked it (4★ or 5★) and 12.6 % when they "
    "disliked it (1★ or 2★). Leaving out 1★ and 2★ (×0) kept the first two and found disliked "
    "products a little less often (12.2 %); the notebook's multipliers as weights changed "
    "nothing measurable. On a sparser demo (30,000 ratings) the moves were larger: leaving out "
    "1★ and 2★ cut disliked finds from 11.3 % to 9.8 %, the notebook's weights cut liked finds "
    "from 21.2 % to 20.6 %. Your data may differ: try a sweep below."
)


def balance_sentence(
    before: Mapping[float, int], after: Mapping[float, int], *, weighted: bool = False
) -> str:
    """One line saying how much the training split grows and what happens to the top class.

    ``weighted``: ``after`` holds weighted counts (the recommended recipe weighs each rating by
    its class's multiplier instead of copying rows), so the sentence says "weighs", not "copies".
    """
    total_before = sum(int(c) for c in before.values())
    total_after = sum(int(c) for c in after.values())
    if total_before == 0:
        return "The training split is empty."
    unchanged = all(int(after.get(r, 0)) == int(n) for r, n in before.items())
    if unchanged:
        how = (
            "each counts once (every weight is 1)" if weighted else "is used as it is (every multiplier is 1)"
        )
        return f"The training split has {total_before:,} ratings and {how}."
    top = max(before, key=lambda r: int(before[r]))
    share_before = int(before[top]) / total_before
    share_after = int(after.get(top, 0)) / max(total_after, 1)
    if weighted:
        left_out = [stars(r) for r in sorted(before) if int(before[r]) and not int(after.get(r, 0))]
        out = f" {_joined(left_out)} {'is' if len(left_out) == 1 else 'are'} left out." if left_out else ""
        return (
            f"Training weighs each rating by its class's multiplier: the {total_before:,} ratings "
            f"count as {total_after:,}.{out} The most common class, {stars(top)}, goes from "
            f"{percent(share_before)} to {percent(share_after)} of what the model learns from."
        )
    return (
        f"Training grows from {total_before:,} to {total_after:,} ratings "
        f"(+{total_after - total_before:,} copies of existing ratings). "
        f"The most common class, {stars(top)}, drops from {percent(share_before)} to "
        f"{percent(share_after)} of what the model sees."
    )


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
