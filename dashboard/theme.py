"""One colour per plant and per loss category, used by every chart."""

from __future__ import annotations

PLANT_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf"]
LOSS_COLOURS = {
    "breakdown": "#d62728",
    "setup": "#ff9896",
    "minor_stop": "#ff7f0e",
    "reduced_speed": "#ffbb78",
    "defect": "#9467bd",
    "startup_reject": "#c5b0d5",
}
# Lines and machines: a palette that avoids the loss colours' reds and purples.
PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#72b7b2", "#eeca3b", "#9d755d", "#bab0ac", "#ff9da6", "#439894"]
GOOD = "#2ca02c"
TARGET = "#555555"


def plant_colour(plant_ids: list[str], plant_id: str) -> str:
    """The same plant keeps the same colour on every page: order by id, not by what is shown."""
    ordered = sorted(plant_ids)
    i = ordered.index(plant_id) if plant_id in ordered else len(ordered)
    return PLANT_COLOURS[i % len(PLANT_COLOURS)]
