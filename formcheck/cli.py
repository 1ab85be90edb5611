"""The `formcheck` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# MediaPipe's C++ logging floods the terminal unless told otherwise before it loads.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from formcheck.errors import FormcheckError
from formcheck.jobs.config import BYTES_PER_MB, DEFAULT_DATA_DIR, JobsConfig, UploadLimits

DEFAULT_OUT_ROOT = Path("out")
DEFAULT_REAL_VIDEOS = Path("..") / "shared" / "videos"

Handler = Callable[[argparse.Namespace], int]


def _positive_cm(text: str) -> float:
    value = float(text)
    if not 50.0 <= value <= 250.0:
        raise argparse.ArgumentTypeError(f"height must be between 50 and 250 cm, got {text}")
    return value


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def cmd_analyze(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from formcheck.offline import analyze_video
    from formcheck.report.outputs import write_outputs
    from formcheck.report.recorder import AnnotationRecorder

    video = Path(args.video)
    out_dir = Path(args.out) if args.out else DEFAULT_OUT_ROOT / video.stem
    bar = tqdm(
        total=None, unit="frame", desc=video.name, disable=args.quiet or None, file=sys.stderr
    )

    def progress(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = max(total, done)
        bar.update(done - bar.n)

    prescription = None
    if args.prescription:
        from formcheck.analyzers import load_prescription

        prescription = load_prescription(Path(args.prescription))
    exercise = args.exercise or (prescription.exercise if prescription else None)
    reference = None
    if args.reference:
        from formcheck.analyzers.personal_reference import load_reference

        reference = load_reference(Path(args.reference), exercise)
        exercise = exercise or reference.exercise
    if args.person:
        if exercise is None:
            raise FormcheckError(
                "Recording a run for a person needs its exercise: --exercise NAME."
            )
        from formcheck.people.cli import programme_settings

        # the programme item's prescription and reference rep, unless given here
        item_prescription, item_reference = programme_settings(args, exercise)
        prescription = prescription or item_prescription
        reference = reference or item_reference
    recorder = AnnotationRecorder()
    try:
        run = analyze_video(
            video,
            out_dir,
            exercise=exercise,
            prescription=prescription,
            height_cm=args.height_cm,
            model=Path(args.model) if args.model else None,
            progress=progress,
            sinks=(recorder,),
            reference=reference,
        )
    finally:
        bar.close()
    with tqdm(total=run.frames, unit="frame", desc="report", disable=args.quiet or None,
              file=sys.stderr) as report_bar:
        written = write_outputs(
            video,
            out_dir,
            run,
            recorder,
            prescription=prescription,
            annotated_video=not args.no_video,
            progress=lambda done, _total: report_bar.update(done - report_bar.n),
        )
    from formcheck.report.terminal import finding_lines, summary_line

    report = run.report
    scale = report.calibration.scale_source.value if report.calibration else "none"
    print(
        f"{video.name}: {report.video.frames} frames, pose in "
        f"{report.video.frames_with_pose} ({100.0 * report.video.pose_rate:.1f}%), "
        f"scale from {scale}"
    )
    if report.calibration is not None and scale == "assumed_height":
        read = report.calibration.estimated_height_cm
        print(
            f"  the pose model read a body height of {read:.0f} cm, outside the adult range: "
            "millimetres assume an average adult; give --height-cm for your own"
        )
    if report.summary is not None:
        print(summary_line(report))
        for line in finding_lines(report):
            print(line)
    files = ["report.json", "measures.csv", written.report_html.name]
    if written.annotated_mp4 is not None:
        files.append(written.annotated_mp4.name)
    print(f"wrote {', '.join(files)} in {out_dir}")
    if args.person:
        from formcheck.people.cli import record_analysis

        print(record_analysis(args, out_dir / "report.json", report.exercise))
    return 0


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """Where the people database is (formcheck.people.cli)."""
    parser.add_argument("--database", metavar="URL", help="postgresql://USER@HOST/DB or "
                        "sqlite:///PATH (default: people.db in the data directory; "
                        "FORMCHECK_DATABASE_URL for a URL with a password)")  # fmt: skip
    parser.add_argument("--data-dir", help=f"the server's data directory (default "
                        f"{DEFAULT_DATA_DIR})")  # fmt: skip


def _rating(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 10:
        raise argparse.ArgumentTypeError(f"ratings are 0 to 10, got {text}")
    return value


def cmd_users_add(args: argparse.Namespace) -> int:
    from formcheck.people.cli import cmd_users_add as run

    return run(args)


def cmd_history(args: argparse.Namespace) -> int:
    from formcheck.people.cli import cmd_history as run

    return run(args)


def cmd_reference(args: argparse.Namespace) -> int:
    """Record the person's reference rep from a recording made for it."""
    import tempfile

    from formcheck.analyzers import get_spec
    from formcheck.analyzers.personal_reference import from_reps, save_reference
    from formcheck.offline import analyze_video

    video = Path(args.video)
    get_spec(args.exercise)  # an unknown exercise fails before the video is read
    out = Path(args.out) if args.out else DEFAULT_OUT_ROOT / f"{video.stem}.reference.json"
    with tempfile.TemporaryDirectory() as work:
        run = analyze_video(
            video,
            Path(work),
            exercise=args.exercise,
            height_cm=args.height_cm,
            model=Path(args.model) if args.model else None,
            keep_masks=False,
        )
    reps = run.summary.reps if run.summary is not None else []
    reference = from_reps(args.exercise, reps, video.name, args.height_cm)
    save_reference(reference, out)
    chosen = ", ".join(
        f"rep {r.index}" + (f" ({r.side})" if r.side else "") for r in reference.reps
    )
    print(f"reference for {args.exercise} from {video.name}: {chosen} of {len(reps)}; "
          f"wrote {out}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from formcheck.pose.model import ensure_model

    info = ensure_model(
        Path(args.model) if args.model else None, log=print, force_build=args.rebuild
    )
    print(f"model: {info.path}\nsource: {info.source}\nsha256: {info.sha256}")
    return 0


def cmd_exercises(args: argparse.Namespace) -> int:
    from formcheck.analyzers import list_analyzers

    analyzers = list_analyzers()
    if not analyzers:
        print("no exercise analyzers yet")
    for item in analyzers:
        print(f"{item.name:18} {item.description}\n{'':18} camera: {item.camera_placement}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from formcheck.evaluation.runner import print_tables, run_eval
    from formcheck.evaluation.summary import (
        baseline_seed,
        check_against_baseline,
        write_baseline,
    )

    tier = "quick" if args.quick else args.tier
    videos = None if args.no_real else Path(args.videos)
    exercises = frozenset(args.exercise) if args.exercise else None
    if tier == "real-use":
        return _eval_real_use(args, exercises)
    summary = run_eval(
        tier=tier,
        seed=args.seed,
        cache_dir=Path(args.cache),
        videos_dir=videos,
        model=Path(args.model) if args.model else None,
        workers=args.workers,
        exercises=exercises,
        log=lambda line: print(line, file=sys.stderr),
    )
    print_tables(summary)
    recorded_seed = baseline_seed(tier)
    skip = None
    if exercises is not None:
        skip = "the run was limited to " + ", ".join(sorted(exercises))
    elif not args.update_baseline and recorded_seed not in (None, args.seed):
        skip = (
            f"seed {args.seed} is a held-out set; the {tier} baseline was recorded with "
            f"seed {recorded_seed}"
        )
    if skip is not None:
        if args.json:
            from formcheck.report.files import write_json

            write_json(summary, Path(args.json))
            print(f"wrote {args.json}")
        print(f"\nBaseline check skipped: {skip}")
        return 0
    if args.update_baseline:
        write_baseline(summary, tier)
        print(f"\nrecorded these figures as the {tier} baseline")
    failures = check_against_baseline(summary, tier)
    summary["baseline_failures"] = failures
    if args.json:
        from formcheck.report.files import write_json

        write_json(summary, Path(args.json))
        print(f"wrote {args.json}")
    if failures:
        print("\nBelow the committed baseline:\n  " + "\n  ".join(failures))
        return 1
    print(f"\nAt or above the committed baseline for tier {tier}.")
    return 0


def _eval_real_use(args: argparse.Namespace, exercises: frozenset[str] | None) -> int:
    """The real-use tier: mesh bodies, faults from rep 1, single reps (no baseline yet)."""
    from formcheck.evaluation.real_use import format_real_use_tables, run_real_use_eval
    from formcheck.evaluation.runner import default_workers
    from formcheck.pose.model import ensure_model

    summary = run_real_use_eval(
        seed=args.seed,
        cache_dir=Path(args.cache),
        model=ensure_model(Path(args.model) if args.model else None).path,
        workers=args.workers or default_workers(),
        exercises=exercises,
        log=lambda line: print(line, file=sys.stderr),
    )
    for line in format_real_use_tables(summary):
        print(line)
    if args.json:
        from formcheck.report.files import write_json

        write_json(summary, Path(args.json))
        print(f"wrote {args.json}")
    print("\nThe real-use tier has no committed baseline: its figures are reported, not checked.")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from formcheck.report.model import report_json_schema

    schemas = {"report": report_json_schema}
    print(json.dumps(schemas[args.name](), indent=2))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from formcheck.live_cli import serve_main, server_config_from_args

    return serve_main(server_config_from_args(args))


def cmd_worker(args: argparse.Namespace) -> int:
    from formcheck.jobs.distributed.worker import run_worker, worker_config
    from formcheck.live_cli import queue_option

    queue = queue_option(args.queue) if args.queue is not None else None
    config = worker_config(queue, args.data_dir)
    return run_worker(config, concurrency=args.concurrency, name=args.name)


def cmd_batch(args: argparse.Namespace) -> int:
    from formcheck.batch.run import batch_main

    return batch_main(args)


def cmd_live(args: argparse.Namespace) -> int:
    from formcheck.live_cli import live_main

    return live_main(args.camera, args.exercise, args.height_cm)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="formcheck", description="Camera-based form checking for back-care exercises."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("analyze", help="analyze a video file and write a report")
    p.add_argument("video", help="video file (any format FFmpeg reads)")
    p.add_argument("--exercise", help="exercise analyzer to use (see `formcheck exercises`)")
    p.add_argument("--prescription", help="prescription file (TOML or JSON) tuning the exercise")
    p.add_argument("--height-cm", type=_positive_cm, help="body height, for millimetre scale")
    p.add_argument("--out", help=f"output folder (default {DEFAULT_OUT_ROOT}/<video name>)")
    p.add_argument("--model", help="PoseLandmarker .task bundle to use instead of the default")
    p.add_argument("--reference", help="compare with this recorded reference rep "
                   "(`formcheck reference record`)")
    p.add_argument("--no-video", action="store_true", help="skip the annotated MP4")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--person", help="record the run as a session of this person's programme")
    p.add_argument("--item", type=int, help="with --person: the programme item (default: the "
                   "newest item of the exercise)")
    p.add_argument("--effort", type=_rating, help="with --person: effort 0-10")
    p.add_argument("--pain", type=_rating, help="with --person: pain 0-10")
    add_database_options(p)
    p.set_defaults(handler=cmd_analyze)

    p = sub.add_parser("reference", help="record a reference rep that later runs compare with")
    ref = p.add_subparsers(dest="reference_command", required=True)
    r = ref.add_parser("record", help="save the best rep of a recording made for it")
    r.add_argument("video", help="a recording of one slow rep (or a few) in your best form")
    r.add_argument("--exercise", required=True, help="exercise analyzer to use")
    r.add_argument("--height-cm", type=_positive_cm, help="body height, for millimetre scale")
    r.add_argument(
        "--out", help=f"file to write (default {DEFAULT_OUT_ROOT}/<video>.reference.json)"
    )
    r.add_argument("--model", help="PoseLandmarker .task bundle to use instead of the default")
    r.set_defaults(handler=cmd_reference)

    p = sub.add_parser("models", help="build or check the pose model bundle")
    p.add_argument("--model", help="check this .task bundle instead")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if a good one is cached")
    p.set_defaults(handler=cmd_models)

    p = sub.add_parser("eval", help="measure accuracy on renders and labelled real clips")
    p.add_argument("--quick", action="store_true", help="the quick tier (under 10 minutes)")
    p.add_argument("--tier", default="full",
                   choices=["tiny", "quick", "hinge", "lib", "full", "real-use"],
                   help="real-use: mesh bodies in loose clothes, faults from rep 1, single reps")
    p.add_argument("--exercise", action="append", metavar="NAME",
                   help="only this exercise (repeatable; synthetic or analyzer name)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the randomized set")
    p.add_argument("--json", help="write every figure to this JSON file")
    p.add_argument("--cache", default="out/eval_cache", help="where rendered clips are kept")
    p.add_argument("--videos", default=str(DEFAULT_REAL_VIDEOS), help="labelled real clips")
    p.add_argument("--no-real", action="store_true", help="skip the real clips")
    p.add_argument("--workers", type=int, help="processes (default: the cores, at most 2)")
    p.add_argument(
        "--update-baseline", action="store_true", help="record this run as the tier's baseline"
    )
    p.add_argument("--model", help="PoseLandmarker .task bundle to use")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser(
        "serve",
        help="start the web app for live feedback and uploads",
        description="Every setting can also come from FORMCHECK_* environment variables "
        "(see README, 'Running it for others'); these options override them. The access "
        "token is never an option (it would show in the process list): FORMCHECK_TOKEN, or "
        "generated into the data directory.",
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine "
                   "only; anything else requires the access token)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--data-dir", help="jobs database, uploads, reports and the access token "
                   f"(default {DEFAULT_DATA_DIR})")
    p.add_argument("--workers", type=int, help="analyses at once (default: one per two cores)")
    p.add_argument("--require-token", action="store_true", default=None,
                   help="require the access token on this machine too (shared machines)")
    p.add_argument("--allowed-origin", action="append", metavar="URL",
                   help="another web origin whose pages may use this server (repeatable)")
    p.add_argument("--max-sessions", type=int, help="live sessions at once (default 4)")
    limits, keep_days = UploadLimits(), JobsConfig.model_fields["retention_days"].default
    max_mb = limits.max_upload_bytes / BYTES_PER_MB
    p.add_argument("--max-upload-mb", type=float,
                   help=f"largest upload accepted (default {max_mb:g})")
    p.add_argument("--max-duration-s", type=float,
                   help=f"longest video accepted (default {limits.max_duration_s:g})")
    p.add_argument("--retention-days", type=float,
                   help=f"uploads and reports are deleted after this (default {keep_days:g})")
    p.add_argument("--queue", metavar="URL",
                   help="run jobs on Celery workers through this Redis (redis://HOST:PORT/DB; "
                   "see `formcheck worker`) instead of worker processes here")
    p.add_argument("--database", metavar="URL",
                   help="people, programmes and sessions in this PostgreSQL "
                   "(postgresql://USER@HOST/DB; with a password: FORMCHECK_DATABASE_URL) "
                   "instead of people.db in the data directory")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser(
        "worker",
        help="analyse the uploads of a job queue (Celery over Redis), on any machine",
        description="Takes the jobs that `formcheck serve --queue URL` (or `formcheck batch "
        "--queue URL`) sends. Every worker needs the same data directory as the server (a "
        "shared directory), the same pose model and the Redis URL; settings also come from "
        "FORMCHECK_JOBS__* variables (a URL with a password: FORMCHECK_JOBS__QUEUE__URL).",
    )
    p.add_argument("--queue", metavar="URL", help="redis://HOST:PORT/DB (the server's --queue)")
    p.add_argument("--data-dir", help="uploads and reports: the server's data directory, "
                   f"shared (default {DEFAULT_DATA_DIR})")
    p.add_argument("--concurrency", type=_at_least_one,
                   help="analyses at once (default: one per two cores)")
    p.add_argument("--name", help="this worker's name (default formcheck-PID@HOST)")
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser(
        "batch",
        help="analyse many recordings: a report per recording and a summary CSV",
        description="Writes OUT/<recording>/ with the files `formcheck analyze` writes, and "
        "OUT/summary.csv (one row per recording). Run it again to resume: recordings whose "
        "outputs are complete are skipped. Exit code 1 when a recording failed (its reason "
        "is in the summary).",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="video files, folders (their videos, recursively) and globs")
    p.add_argument("--exercise", required=True, help="exercise analyzer for every recording")
    p.add_argument("--out", default=str(DEFAULT_OUT_ROOT / "batch"),
                   help=f"output folder (default {DEFAULT_OUT_ROOT / 'batch'})")
    p.add_argument("--height-cm", type=_positive_cm, help="body height, for millimetre scale")
    p.add_argument("--jobs", type=_at_least_one, help="recordings at once (default: all "
                   "cores; with --queue, recordings handed to the workers at once, 32)")
    p.add_argument("--queue", metavar="URL", nargs="?", const="",
                   help="fan out to `formcheck worker`s through this Redis "
                   "(redis://HOST:PORT/DB; alone: the URL in FORMCHECK_JOBS__QUEUE__URL)")
    p.add_argument("--data-dir", help="with --queue: the data directory the workers share "
                   f"(default {DEFAULT_DATA_DIR})")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_batch)

    p = sub.add_parser("live", help="live feedback from a local camera, cues in the terminal")
    p.add_argument("--camera", default="0", help="camera index (or a video file to replay)")
    p.add_argument("--exercise", help="exercise analyzer to use")
    p.add_argument("--height-cm", type=_positive_cm, help="body height, for millimetre scale")
    p.set_defaults(handler=cmd_live)

    p = sub.add_parser("users", help="accounts of the people database (clinicians, people)")
    users = p.add_subparsers(dest="users_command", required=True)
    u = users.add_parser("add", help="add an account (the first clinician, for one); the "
                         "password is asked for, or read from FORMCHECK_PASSWORD")
    u.add_argument("username")
    u.add_argument("--role", choices=["clinician", "person"], default="clinician")
    u.add_argument("--name", help="the name shown (default the user name)")
    u.add_argument("--clinician", help="a person's clinician (user name)")
    add_database_options(u)
    u.set_defaults(handler=cmd_users_add)

    p = sub.add_parser("history", help="a person's progress table (MDC95 and verdicts)")
    p.add_argument("name", help="the person's user name")
    p.add_argument("--exercise", help="only this exercise")
    add_database_options(p)
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("exercises", help="list the exercise analyzers")
    p.set_defaults(handler=cmd_exercises)

    p = sub.add_parser("schema", help="print the JSON Schema of a file formcheck writes")
    p.add_argument("name", choices=["report"], help="report: report.json (and live reports)")
    p.set_defaults(handler=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except FormcheckError as exc:
        print(f"formcheck: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("formcheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
