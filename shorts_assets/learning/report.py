"""The strategy report: a markdown summary and a PNG of the allocation over time and the posteriors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def _pyplot():  # type: ignore[no-untyped-def]
    """matplotlib's pyplot on the file-only Agg backend, imported on first use: it costs a few tenths of a
    second, which every process that loads the definitions would otherwise pay without drawing anything."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot(
    path: Path,
    history: Sequence[tuple[str, Mapping[str, Mapping[str, float]]]],
    effects: Mapping[str, Mapping[str, Mapping[str, float]]],
    title: str,
) -> Path:
    """Per dimension: its allocation over the dates of `history`, and each value's effect ± 2 sd."""
    plt = _pyplot()
    dimensions = list(effects)
    fig, axes = plt.subplots(len(dimensions), 2, figsize=(11, 2.3 * len(dimensions)), squeeze=False)
    dates = [d for d, _ in history]
    for row, dimension in enumerate(dimensions):
        left, right = axes[row]
        values = list(effects[dimension])
        for value in values:
            left.plot(dates, [a.get(dimension, {}).get(value, 0.0) for _, a in history], marker=".", label=value)
        left.set_ylim(0, 1)
        left.set_ylabel(dimension)
        left.legend(fontsize=6, loc="upper left", ncol=2)
        left.tick_params(axis="x", labelsize=6, rotation=45)
        if len(dates) > 8:
            step = max(1, len(dates) // 8)
            left.set_xticks(dates[::step])
        means = [effects[dimension][v]["mean"] for v in values]
        errors = [2 * effects[dimension][v]["sd"] for v in values]
        right.barh(values, means, xerr=errors, color="tab:blue", alpha=0.7)
        right.axvline(0, color="grey", linewidth=0.8)
        right.tick_params(labelsize=7)
    axes[0][0].set_title("allocation over time")
    axes[0][1].set_title("effect on reward (posterior mean ± 2 sd)")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def markdown(
    channel: str,
    day: str,
    allocation: Mapping[str, Mapping[str, float]],
    effects: Mapping[str, Mapping[str, Mapping[str, float]]],
    lacking: Sequence[str],
    candidate_topics: Mapping[str, int],
    model_summary: Mapping[str, object] | None,
    experiments: Sequence[Mapping[str, object]] = (),
    promotions: Mapping[str, Mapping[str, object]] | None = None,
) -> str:
    lines = [f"# Strategy for {channel} after {day}", ""]
    best = {d: max(shares, key=shares.get) for d, shares in allocation.items() if shares}
    lines.append("**Favoured recipe:** " + " · ".join(f"{d}={v}" for d, v in best.items()))
    lines += ["", "| dimension | arm | share | effect | sd | weight |", "|---|---|---|---|---|---|"]
    for dimension, shares in allocation.items():
        for value, share in sorted(shares.items(), key=lambda kv: -kv[1]):
            e = effects.get(dimension, {}).get(value, {"mean": 0.0, "sd": 0.0, "n": 0.0})
            lines.append(f"| {dimension} | {value} | {share:.0%} | {e['mean']:+.3f} | {e['sd']:.3f} | {e['n']:.1f} |")
    if lacking:
        lines += ["", "**Decided without:**"] + [f"- {item}" for item in lacking]
    if candidate_topics:
        lines += [
            "",
            "**Topics viewers ask for** (not in the topic pool; a language-model writer adopts the most asked-for): ",
        ]
        lines.append(", ".join(f"{t} ({n})" for t, n in candidate_topics.items()))
    if experiments:
        lines += ["", "**Experiments**", ""] + experiment_table(experiments)
    if promotions:
        promoted = "; ".join(f"{d}: {p['winner']} over {p['loser']} until {p['until']}" for d, p in promotions.items())
        lines += ["", f"**Promoted by experiments:** {promoted}"]
    if model_summary:
        lines += ["", f"**Reward model:** {model_summary.get('description', '')}"]
    return "\n".join(lines)


def experiment_table(experiments: Sequence[Mapping[str, object]]) -> list[str]:
    """A markdown table of experiments: the two arms, since when, how it stands or ended."""
    lines = [
        "| dimension | A | B | since | status | P(A > B) | videos A/B | winner | reason |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in experiments:
        p = e.get("p_superiority")
        status = f"{e.get('status')} {e['decided_on']}" if e.get("decided_on") else str(e.get("status"))
        cells = [
            e.get("dimension"),
            e.get("arm_a"),
            e.get("arm_b"),
            e.get("started_on"),
            status,
            "—" if p is None else f"{float(p):.3f}",
            f"{e.get('videos_a', 0)}/{e.get('videos_b', 0)}",
            e.get("winner") or "—",
            e.get("reason") or "—",
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines
