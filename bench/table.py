"""One row per figure: the measurement, a baseline from the same run, the target."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """A measured figure. `baseline` is measured in the same run, never hard-coded."""

    bench: str
    figure: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    #: human-readable target, e.g. "< 2 s" or ">= 0.9"
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline


def render(rows: list[Row]) -> str:
    """A fixed-width table a person can read in a terminal."""
    header = ("bench", "figure", "value", "baseline", "ratio", "target", "met")
    lines = [header]
    for row in rows:
        baseline = f"{row.baseline:.4g} ({row.baseline_label})" if row.baseline is not None else "-"
        ratio = f"{row.ratio:.3g}" if row.ratio is not None else "-"
        met = {True: "yes", False: "NO", None: "-"}[row.met]
        lines.append(
            (
                row.bench,
                row.figure,
                f"{row.value:.4g} {row.unit}",
                baseline,
                ratio,
                row.target or "-",
                met,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)
