"""Train: fit the recommender on the current data, watch it learn, and read how good it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from pages.parts import budget, charts, datasets, entry, everyone, jobs, layout, runs, state
from pages.parts import ladder as ladder_view
from recsys_core.app import TrainingJob, views, warm_ladder
from recsys_core.charts import CURVES, curve_keys, learning_curve_chart
from recsys_core.config import OBJECTIVES, PRESETS, SPLITS, TrainConfig
from recsys_core.errors import RecsysError
from recsys_core.settings import runs_dir

if TYPE_CHECKING:
    from pathlib import Path

    from streamlit.delta_generator import DeltaGenerator

    from recsys_core.app.views import EpochRecord, Metrics
    from recsys_core.runs import Run

entry.through_app()  # before anything else: a cold deep link reruns through app.py
ds = datasets.dataset()
state.ensure_settings()
if ds.is_demo:  # its ladder fits in the background now, ready before the first training ends
    warm_ladder(ds.ratings, ds.products, TrainConfig(), runs_dir(), key=ds.key)
_, holdout = views.holdout_words(str(state.kept("split")), ds.ratings.has_timestamps)
layout.intro(
    "Train",
    "The model learns a short profile of every customer and product from the ratings, then predicts "
    f"how much a customer will like a product. For the test, {holdout}.",
)

PRESET_TEXT = {
    "recommended": "the best suggestions this tool makes (it compares every product for each customer), "
    "and it still predicts star ratings",
    "fast": "quick, and finds what customers pick next far more often than a best-seller list",
    "notebook": "the reference notebook's recipe, exactly, with its oversampling; its suggestions find "
    "what customers pick next less often than a plain best-seller (“most popular”) list, because it "
    "only learns from the ratings people gave",
}


def _preset_label(name: str) -> str:
    config = PRESETS[name]
    return f"{name}: {PRESET_TEXT.get(name, '')} ({config.epochs} passes over the data)"


# Short enough for the select box at 1280 px; the help says more.
OBJECTIVE_TEXT = {
    "rating": "Predict the stars",
    "ranking": "Find the next pick",
    "hybrid": "Next pick and stars",
    "softmax": "Best lists (softmax)",
}
OBJECTIVE_HELP = (
    "Predict the stars learns only from the ratings given, so it knows how much a customer likes "
    "what they bought but not what they would buy next: its suggestions do little better than the "
    "most popular products. Find the next pick also learns from products a customer did not "
    "rate, and suggests far better, but its scores no longer predict stars. Next pick and stars does "
    "the two: it suggests like the second and predicts ratings like the first. Best lists ranks each "
    "customer's products against the whole catalogue (a softmax): the best suggestions."
)

classes = sorted(float(r) for r in datasets.rating_distribution(ds.key, ds.frame)["rating"])
# The server's training when one runs (a reload or another tab follows it), else this session's.
job = jobs.attach(state.JOB, TrainingJob)
running = job is not None and job.running
busy = jobs.running()  # a sweep keeps Start off too: one job at a time


def _refusal(config_split: str, seed: int) -> str | None:
    """Why training cannot start on this data with this split, with advice that works."""
    readiness = views.data_readiness(ds.frame)
    if readiness.level == "error":
        return readiness.message
    try:
        datasets.train_class_counts(ds.key, config_split, seed, ds.frame)
    except RecsysError as exc:
        return views.split_advice(ds.frame, config_split, seed, exc)
    return None


def _start() -> None:
    session = st.session_state
    session.pop("train_error", None)
    try:
        config = state.current_config(classes)
    except RecsysError as exc:
        session["train_error"] = (ds.key, str(exc))
        return
    refusal = _refusal(config.split, config.seed)
    if refusal:
        session["train_error"] = (ds.key, refusal)
        return
    name = (state.kept("run_name") or "").strip() or None
    new_job = TrainingJob(
        ds.ratings,
        config,
        products=ds.products,
        directory=runs_dir(),
        name=name,
        dataset=datasets.record(ds),
    )
    # Tests train in this thread (AppTest cannot wait for a worker); the app uses a worker so
    # the page stays live and Stop works.
    jobs.start(state.JOB, new_job, background=not state.sync_training())


def _budget_inputs() -> tuple[TrainConfig | None, dict[float, int] | None]:
    """The recipe Start would train and its training split's rating counts (``None`` when the
    settings or the split are refused: Start says why)."""
    try:
        config = state.current_config(classes)
        return config, datasets.train_class_counts(ds.key, config.split, config.seed, ds.frame)
    except RecsysError:
        return None, None


def _stop() -> None:
    current = st.session_state.get(state.JOB)
    if current is not None:
        current.stop()


# -- settings ------------------------------------------------------------------------------------
with st.container(border=True):
    st.markdown(f"Training on {layout.dataset_line(ds)}.")
    st.markdown(
        (
            "How much each rating class counts (weights, set on **Balance**): "
            if state.weighs_classes()
            else "Extra copies of rarer ratings (oversampling, set on **Balance**): "
        )
        + f"{views.multipliers_text(state.multipliers(classes))}."
    )
    for rating, why in state.refused_multipliers(classes).items():
        st.warning(f"{views.stars(rating)}: {why}", icon=":material/warning:")
    st.radio(
        "Recipe",
        sorted(PRESETS, key=lambda name: name != state.DEFAULT_PRESET),
        horizontal=False,
        **state.bind("preset", state.DEFAULT_PRESET, on_change=state.choose_preset),
        format_func=_preset_label,
        disabled=running,
    )
    if st.session_state.get("preset_note"):
        st.info(st.session_state["preset_note"], icon=":material/tune:")
    with st.expander("Advanced settings"):
        a = st.columns(4)
        a[0].number_input(
            "Epochs (passes over the data)",
            min_value=1,
            max_value=200,
            step=1,
            **state.bind("epochs", None),
            disabled=running,
        )
        a[1].number_input(
            "Profile size",
            min_value=1,
            max_value=1024,
            step=8,
            **state.bind("embedding_dim", None),
            disabled=running,
            help="How many numbers describe each customer and product (the embedding size).",
        )
        a[2].number_input(
            "Ratings per learning step",
            min_value=1,
            max_value=65536,
            step=64,
            **state.bind("batch_size", None),
            disabled=running,
            help="How many ratings the model looks at before each adjustment (the batch size; "
            "for the recommended recipe, how many customers' ratings); more is faster per pass.",
        )
        a[3].number_input(
            "Learning rate",
            min_value=1e-6,
            max_value=1.0,
            step=1e-4,
            format="%.4f",
            **state.bind("learning_rate", None),
            disabled=running,
        )
        b = st.columns(4)
        b[0].number_input(
            "Threshold",
            min_value=0.01,
            max_value=0.99,
            step=0.025,
            format="%.3f",
            **state.bind("threshold", None),
            disabled=running,
            help="A score at or above it means 'the customer will like it' (4★ or more).",
        )
        b[1].selectbox(
            "Hold-out split",
            list(SPLITS),
            **state.bind("split", None),
            disabled=running,
            help="auto: each customer's last rating is the test when dates exist, else random.",
        )
        b[2].selectbox(
            "Objective",
            list(OBJECTIVES),
            **state.bind("objective", None),
            format_func=lambda o: OBJECTIVE_TEXT.get(o, o),
            disabled=running,
            help=OBJECTIVE_HELP,
        )
        b[3].number_input(
            "Seed",
            min_value=0,
            max_value=2**31 - 1,
            step=1,
            **state.bind("seed", None),
            disabled=running,
            help="Same seed, same settings, same data: same result.",
        )
        st.text_input(
            "Run name (optional)",
            **state.bind("run_name", ""),
            disabled=running,
            placeholder="named after its settings when left empty",
        )

    # What the run will take here, before it starts; a recipe that would not fit is offered one that does.
    planned, planned_counts = _budget_inputs()
    fits = budget.note(datasets.overview(ds.key, ds.frame), planned_counts, planned, running=running)
    c1, c2, _ = st.columns([3, 2, 7])  # "Start training" whole at 1280 px
    c1.button(
        "Start training",
        type="primary",
        on_click=_start,
        disabled=running or busy is not None or not fits,
        width="stretch",
        icon=":material/play_arrow:",
    )
    c2.button(
        "Stop",
        on_click=_stop,
        disabled=not running or job.stopping,
        width="stretch",
        icon=":material/stop:",
        help="Ends after the current batch and keeps the best epoch so far.",
    )
    if st.session_state.get(jobs.REFUSED):
        st.warning(st.session_state.pop(jobs.REFUSED), icon=":material/group:")
    if running:
        st.caption(jobs.watching_text("training"))
    elif busy is not None:
        st.info(jobs.busy_text(busy), icon=":material/hourglass_top:")

# A message belongs to the data it was about: after another upload it no longer shows.
train_error = st.session_state.get("train_error")
if train_error and train_error[0] == ds.key:
    st.error(layout.plain(train_error[1]), icon=":material/error:")


# -- live progress and charts ------------------------------------------------------------------
#: Seconds between redraws of the live history charts while training.
CHART_SECONDS = 4.0


def _history_charts(history: Sequence[EpochRecord], objective: str, chosen: int | None = None) -> None:
    """One chart per quantity (their scales differ by orders of magnitude): the training loss, the
    validation measure that picks the kept epoch, the predicted rating's AUC; the kept epoch
    marked (``chosen``: the run's best epoch; while training, the best so far)."""
    if not history:
        st.caption("The charts appear after the first epoch.")
        return
    frame = views.learning_curve_data(history, objective, chosen)
    for column, key in zip(st.columns(3), curve_keys(objective), strict=True):
        # A chart's spec is built once; redraws send only the new rows (cheap while training).
        column.vega_lite_chart(frame, _spec(key), width="stretch")
    st.caption(
        " ".join(f"{CURVES[key][0].split(':')[0]}: {CURVES[key][1]}" for key in curve_keys(objective))
        + " The dashed line marks the epoch the run keeps: the best on the validation measure in the "
        "middle, judged on ratings set aside from training."
    )


@st.cache_resource(show_spinner=False)
def _spec(key: str) -> dict:
    """The Vega-Lite spec of one learning curve without its data (Altair's validation runs once)."""
    chart = learning_curve_chart(views.learning_curve_data([], "softmax"), key)
    spec = chart.to_dict()
    spec.pop("datasets", None)
    spec.pop("data", None)
    return spec


def _live() -> None:
    """The progress bar, redrawn once a second (cheap: one element)."""
    current = st.session_state.get(state.JOB)
    if current is None:
        return
    if not current.running:
        # Finished while we were polling: a full rerun switches the page to the results.
        st.rerun()
    epoch, done, total = current.progress
    epochs = current.config.epochs
    share = done / total if total else 0.0
    # The softmax recipe stops once validation stops improving: "of 40" would promise 40.
    of = (
        f"up to {epochs} (stops early when it stops improving)"
        if current.config.objective == "softmax"
        else epochs
    )
    what = "Stopping after this batch…" if current.stopping else f"Epoch {max(epoch, 1)} of {of}"
    left = current.epoch_seconds_left
    eta = "" if left is None or current.stopping else f" · about {left:,.0f} s left in this epoch"
    text = f"{what} · {done:,} / {total:,} batches{eta} · {current.elapsed:,.0f} s"
    if total == 0:
        text = f"Preparing the data (split, oversampling)… {current.elapsed:,.0f} s"
    st.progress(min(share, 1.0), text=text)


def _live_charts() -> None:
    """The history charts, redrawn every few seconds: drawing them (here and in the browser)
    takes cores from the trainer, and their data only changes at the end of an epoch."""
    current = st.session_state.get(state.JOB)
    if current is not None:
        _history_charts(current.history, current.config.objective)


if running:
    # The trainer uses every core and each redraw (here and in the browser) takes some away:
    # the progress bar once a second, the charts every CHART_SECONDS (benchmarks/app_training.py).
    st.fragment(run_every=1.0)(_live)()
    st.fragment(run_every=CHART_SECONDS)(_live_charts)()
elif (
    job is not None
    and job.status == "failed"
    and (job.dataset.key if job.dataset else None) in (None, ds.key)
):
    st.error(layout.plain(job.error) if job.error else "Training failed.", icon=":material/error:")
    if job.details:
        with st.expander("Technical details"):
            st.code(job.details)


# -- results ------------------------------------------------------------------------------------
@st.cache_data(max_entries=8, show_spinner="Scoring the test ratings…")
def _curve(run_id: str, _run: Run) -> pd.DataFrame:
    from recsys_core.metrics import threshold_curve  # torch: only once a run is shown

    run = _run
    return threshold_curve(run.test_ratings, run.test_scores(), run.config.positive_rating)


def _story(slot: DeltaGenerator, metrics: Metrics, ladder: dict[str, dict]) -> None:
    """The retellable sentence in ``slot`` (redrawn once the ladder names the best classic method)."""
    ranking = metrics.get("ranking") or {}
    k = int(ranking.get("k", 10))
    story = views.ladder_sentence(ranking.get("model") or {}, ladder, k=k, popular=ranking.get("popularity"))
    if story:
        slot.markdown(f"#### {story}")


def _ladder(run: Run, folder: Path | None, story: DeltaGenerator) -> None:
    """The ladder chart, fitted last (a few seconds) so the other results show meanwhile."""
    if run.config.objective == "rating":
        st.caption(
            "This recipe (the notebook's) learns only from the ratings people gave, not from which "
            "products they chose, so its suggestions rank below a plain best-seller list. The "
            "recommended recipe learns both."
        )
    if not (run.metrics or {}).get("ranking"):
        return
    ladder, missing = ladder_view.fitted_ladder(run, folder)
    _story(story, run.metrics, ladder)
    ladder_view.show_ladder(run, ladder, missing)


def _headline(metrics: Metrics) -> None:
    """Threshold-free and ranking measures first, then the rest (the sentence and the ladder are
    drawn above them)."""
    ranking = metrics.get("ranking") or {}
    hit = (ranking.get("model") or {}).get("hit_rate_at_k")
    m = st.columns(4)
    if ranking:
        delta, colour = views.hit_delta(ranking)
        m[0].metric(
            "Finds the next product",
            views.percent(hit, 1),
            delta=delta,
            delta_color=colour,
            help=f"Share of customers whose next product is among the model's top {ranking.get('k', 10)} "
            "suggestions (hit rate). Green or red only where the difference from a best-seller list is "
            "more than the noise.",
        )
    m[1].metric(
        "Ranks liked above disliked",
        views.percent(metrics.get("roc_auc"), 1),
        help="How often a liked product scores above a disliked one (ROC AUC; 50 % = coin flip). "
        "It does not depend on the threshold.",
    )
    m[2].metric(
        "Precision",
        views.percent(metrics.get("precision"), 1),
        help="Of the products the model says a customer will like, the share they really liked. "
        "Moves with the threshold.",
    )
    m[3].metric(
        "Recall",
        views.percent(metrics.get("recall"), 1),
        help="Of the products customers liked, the share the model spotted. Moves with the threshold.",
    )
    for sentence in views.classification_sentences(metrics):
        st.markdown(f"- {sentence}")


def _tradeoff(run: Run, run_id: str) -> None:
    """Against the latest other run on the same data: a precision gain bought with recall."""
    key = run.summary.dataset.key if run.summary.dataset else None
    if key is None:
        return
    others = [
        r
        for r in runs.list_runs()
        if r.run_id != run_id and r.metrics and r.summary.dataset and r.summary.dataset.key == key
    ]
    # Prefer a run without oversampling: the usual source of such a trade.
    others.sort(key=lambda r: bool((r.config or {}).get("multipliers")))
    if others:
        what = f"these settings (against “{layout.plain(others[0].name)}”)"
        sentence = views.tradeoff_sentence(run.metrics, others[0].metrics, what)
        if sentence:
            st.warning(sentence, icon=":material/swap_vert:")


def _call_charts(run: Run, run_id: str) -> None:
    """The confusion matrix and the threshold trade-off, side by side."""
    left, right = st.columns(2)
    with left:
        st.markdown("**Right and wrong calls on the test ratings**")
        cells = views.confusion_frame(run.metrics.get("confusion", {}), run.config.positive_rating)
        st.altair_chart(charts.confusion_chart(cells), width="stretch")
    with right:
        st.markdown("**Stricter or looser: the threshold trade-off**")
        curve = _curve(run_id, run)
        st.altair_chart(
            charts.threshold_chart(views.threshold_chart_data(curve), run.config.threshold), width="stretch"
        )
        st.caption(
            "A higher threshold makes the model say “will like” less often: it is right more often "
            "(precision) but finds fewer liked products (recall)."
        )


def _results(run: Run, run_id: str, folder: Path | None) -> None:
    note = f" {layout.plain(run.message)}" if run.message else ""
    st.success(
        f"Finished in {run.duration_seconds:,.0f} s and saved as “{layout.plain(run.name)}”.{note} "
        "Compare it with other runs on **Compare**; try it on **Recommend**.",
        icon=":material/check_circle:",
    )
    metrics = run.metrics or {}
    if "precision" not in metrics:
        st.warning("The test split was empty, so there are no test figures for this run.")
        _history_charts(run.history, run.config.objective, run.summary.best_epoch)
        return
    st.subheader("How good is it?")
    story = st.empty()
    _story(story, metrics, {})
    ladder_slot = st.container()
    _headline(metrics)
    everyone.everyone_download(run, run_id, folder)
    _tradeoff(run, run_id)
    _call_charts(run, run_id)
    st.subheader("Learning curves")
    _history_charts(run.history, run.config.objective, run.summary.best_epoch)
    with ladder_slot:  # drawn above the measures, fitted last
        _ladder(run, folder, story)


if job is not None and job.status == "done" and job.run is not None:
    st.session_state[state.LAST_RUN] = job.run_id
    _results(job.run, job.run_id, job.run_path)
elif job is None:
    st.info(
        "Choose a recipe and press **Start training**. The demo data trains in about a minute "
        "with the fast recipe.",
        icon=":material/info:",
    )

# Run folders that cannot be opened: listed apart (with the reason), so they never hide the others.
runs.show_broken_runs()
