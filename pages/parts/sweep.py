"""Balance's sweep panel: train one run per multiplier (or recipe scale) and seed in the background,
then draw every measure against the setting.

The sweep is a :class:`recsys_core.app.SweepJob` on the server's job board (one job at a time,
followed by every session: see ``pages.parts.jobs``); while it runs a fragment redraws its
progress and the finished runs once a second, so the rest of the page stays usable.
"""

from __future__ import annotations

import streamlit as st

from pages.parts import datasets, jobs, state
from pages.parts import whatif_charts as charts
from pages.parts.layout import plain
from recsys_core.app import SweepJob, views
from recsys_core.errors import RecsysError, check_count
from recsys_core.limits import MAX_SWEEP_SEEDS
from recsys_core.settings import runs_dir
from recsys_core.sweep import class_points, recipe_points

#: Session-state keys: the sweep job and the message of the last refused start.
SWEEP = "sweep_job"
SWEEP_ERROR = "sweep_error"
MAX_RUNS = 24
#: Runs per setting by default: enough for a standard error over seeds.
DEFAULT_SEEDS = 3
#: Sweep charts per row.
PER_ROW = 3


def _recipe(classes: list[float]) -> dict[float, float]:
    """What "Sweep the recipe" scales: the multipliers set on this page, else the notebook's."""
    chosen = {r: f for r, f in state.multipliers(classes).items() if f != 1.0}
    return chosen or {r: f for r, f in state.notebook_recipe().items() if r in classes}


def _start(kind: str, classes: list[float]) -> None:
    session = st.session_state
    session.pop(SWEEP_ERROR, None)
    ds = datasets.dataset()
    try:
        config = state.current_config(classes)
        count = check_count(int(state.kept("sweep_seeds", DEFAULT_SEEDS)), "Seeds", most=MAX_SWEEP_SEEDS)
        seeds = [config.seed + i for i in range(count)]
        if kind == "class":
            values = views.parse_numbers(state.kept("sweep_multipliers", "1, 2"))
            _check(values, "multipliers", "1, 2, 4")
            points = class_points(config, float(state.kept("sweep_class", classes[0])), values, seeds)
        else:
            values = views.parse_numbers(state.kept("sweep_scales", "0, 1"))
            _check(values, "scales", "0, 0.5, 1, 2")
            points = recipe_points(config, _recipe(classes), values, seeds)
        if len(points) > MAX_RUNS:
            raise RecsysError(f"That is {len(points)} trainings; a sweep here runs at most {MAX_RUNS}.")
    except RecsysError as exc:
        session[SWEEP_ERROR] = str(exc)
        return
    job = SweepJob(
        ds.ratings,
        points,
        axis="multiplier" if kind == "class" else "scale",
        products=ds.products,
        directory=runs_dir(),
        dataset=datasets.record(ds),
    )
    jobs.start(SWEEP, job, background=not state.sync_training())  # tests sweep in the script's thread


def _check(values: list[float], what: str, example: str) -> None:
    if not values:
        raise RecsysError(f"Write the {what} as numbers separated by commas, e.g. {example}.")
    if any(v < 0 for v in values):
        raise RecsysError(f"The {what} must be 0 or more.")


def _stop() -> None:
    job = st.session_state.get(SWEEP)
    if job is not None:
        job.stop()


def _axis_title(job: SweepJob) -> str:
    if job.axis == "scale":
        return "Recipe scale (0 = every class ×1, 1 = the recipe)"
    return f"Multiplier of {views.stars(job.points[0].label['class'])}" if job.points else "Multiplier"


def _chart(job: SweepJob) -> None:
    """Every measure against the setting, one small chart each (their scales differ)."""
    points = views.sweep_chart_data(job.records, job.axis)
    if points.empty:
        st.caption("The chart appears when the first run has finished.")
        return
    measures = list(views.SWEEP_MEASURES)
    # Three charts a row (the hit rates on liked and disliked products side by side): at 1280 px
    # each is wide enough for its title and ticks.
    for start in range(0, len(measures), PER_ROW):
        columns = st.columns(PER_ROW)
        for column, measure in zip(columns, measures[start : start + PER_ROW], strict=False):
            mine = points[points["measure"] == measure]
            if mine.empty:
                continue
            chart = charts.sweep_measure_chart(points, measure, _axis_title(job), views.sweep_axis(mine))
            column.altair_chart(chart, width="stretch")
    sentence = views.sweep_sentence(points, "×" if job.axis == "multiplier" else "scale ")
    if sentence:
        st.markdown(sentence)
    st.caption(
        "Each point is the mean over the seeds; its bar is ± one standard error (over the seeds, or "
        "with one seed over the test customers). A change counts only when the 95 % intervals "
        "(about twice the bars) do not overlap. Every axis spans at least 5 points, so a tiny "
        "change does not look like a cliff. Hover a point for what its measure means."
    )


def _progress(job: SweepJob) -> None:
    epoch, done, total = job.progress
    config = job.config
    what = f"Run {max(job.index, 1)} of {job.total}"
    if config is not None:
        what += f" · pass {max(epoch, 1)} of {config.epochs}"
    if job.stopping:
        what = "Stopping; the finished runs are kept…"
    share = (job.index - 1 + (done / total if total else 0.0)) / max(job.total, 1)
    st.progress(min(max(share, 0.0), 1.0), text=f"{what} · {job.elapsed:,.0f} s")


def _live() -> None:
    job = st.session_state.get(SWEEP)
    if job is None:
        return
    if not job.running:
        st.rerun()  # finished while polling: redraw the panel with the outcome
    _progress(job)
    _chart(job)


def _inputs(classes: list[float], running: bool) -> None:
    a = st.columns([1, 2, 2, 1])
    a[0].selectbox(
        "Class to sweep",
        classes,
        format_func=views.stars,
        **state.bind("sweep_class", classes[0]),
        disabled=running,
    )
    a[1].text_input(
        "Its multipliers",
        **state.bind("sweep_multipliers", "1, 2"),
        disabled=running,
        help="One run per value; the other classes keep the multipliers above."
        + (
            " Here they are weights: 0 leaves the class out, 0.5 counts it half."
            if state.weighs_classes()
            else ""
        ),
    )
    a[2].text_input(
        "Recipe scales",
        **state.bind("sweep_scales", "0, 1"),
        disabled=running,
        help="For “Sweep the recipe”: 0 = every class ×1, 1 = the recipe, 2 = twice its distance from ×1.",
    )
    a[3].number_input(
        "Seeds",
        min_value=1,
        max_value=5,
        step=1,
        **state.bind("sweep_seeds", DEFAULT_SEEDS),
        disabled=running,
        help="Runs per setting with different random starts; their standard error shows as bars.",
    )


def _buttons(classes: list[float], job: SweepJob | None, busy: bool) -> None:
    running = job is not None and job.running
    b = st.columns([4, 4, 3, 7])  # the labels whole at 1280 px
    b[0].button(
        "Sweep this class",
        type="primary",
        on_click=_start,
        args=("class", classes),
        disabled=busy,
        width="stretch",
        icon=":material/stacked_line_chart:",
    )
    b[1].button(
        "Sweep the recipe",
        on_click=_start,
        args=("recipe", classes),
        disabled=busy,
        width="stretch",
        help=f"Scales {views.multipliers_text(_recipe(classes))}.",
    )
    b[2].button(
        "Stop",
        on_click=_stop,
        disabled=not running or job.stopping,
        width="stretch",
        icon=":material/stop:",
        help="Ends the run in progress; the runs already finished stay saved.",
    )


def sweep_panel(classes: list[float]) -> None:
    """The sweep's settings, buttons, progress and chart (call once on the Balance page)."""
    state.ensure_settings()
    # The server's sweep when one runs (a reload or another tab follows it), else this session's.
    job = jobs.attach(SWEEP, SweepJob)
    running = job is not None and job.running
    server_job = jobs.running()
    busy = server_job is not None  # a training keeps the sweep buttons off too
    st.subheader("Try several multipliers at once")
    config_text = f"{state.kept('preset', state.DEFAULT_PRESET)} recipe, {state.kept('epochs', '?')} passes"
    st.caption(
        "A sweep trains one model per setting (and seed) in the background, saves each as a run "
        f"(see **Compare**) and draws how the results move. Each run uses the **Train** page's settings "
        f"({config_text})."
    )
    with st.container(border=True):
        _inputs(classes, running)
        _buttons(classes, job, busy)
        if st.session_state.get(jobs.REFUSED):
            st.warning(st.session_state.pop(jobs.REFUSED), icon=":material/group:")
        if running:
            st.caption(jobs.watching_text("sweep"))
        elif busy:
            st.caption(jobs.busy_text(server_job) or "")
        if st.session_state.get(SWEEP_ERROR):
            st.error(plain(st.session_state[SWEEP_ERROR]), icon=":material/error:")
    if job is None or (not running and (job.dataset is None or job.dataset.key != datasets.dataset().key)):
        return  # a finished sweep belongs to its data; a running one shows whatever is loaded
    if running:
        st.fragment(run_every=1.0)(_live)()
        return
    if job.status == "failed":
        st.error(plain(job.error or "The sweep failed."), icon=":material/error:")
    elif job.stop_event.is_set():
        st.info(
            f"Stopped: kept the {len(job.records)} finished run(s) of {job.total}.", icon=":material/stop:"
        )
    else:
        st.success(f"Sweep finished: {len(job.records)} runs saved; compare them on **Compare**.")
    _chart(job)
