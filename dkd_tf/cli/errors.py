"""One way for every command-line entry point to fail: `error: <file>: <problem>`, exit status 1.

    from dkd_tf.cli import errors
    if __name__ == "__main__":
        errors.run(main)          # instead of absl.app.run(main)

Data, predictions, model-directory, manifest and export errors already name their file in their
message (DatasetError, ManifestError, RunStateError, ...); `run` prints that message on one line
(details a message carries on further lines, such as a table of differing flags or a list of
unreadable frames, follow indented) and exits 1 instead of printing a traceback. Any other
exception is reported the same way, with its type.

The traceback is kept for debugging with `--traceback` or the environment variable
DKD_TF_TRACEBACK=1. (`--verbose` is the Keras progress flag of dkd_tf.train, so it cannot mean this
too.)
"""
from __future__ import annotations

import os
import sys

from absl import app, flags


TRACEBACK_ENV = "DKD_TF_TRACEBACK"
EXIT_FAILURE = 1

if "traceback" not in flags.FLAGS:
    flags.DEFINE_bool("traceback", False, "On an error, show the Python traceback instead of the "
                      f"one-line 'error: <file>: <problem>' message (also: {TRACEBACK_ENV}=1).")


def traceback_wanted() -> bool:
    if os.environ.get(TRACEBACK_ENV, "").strip().lower() not in ("", "0", "false", "no"):
        return True
    try:
        return bool(flags.FLAGS["traceback"].value)
    except (KeyError, flags.UnparsedFlagAccessError):
        return False


def _known_types() -> tuple:
    """The project's error types whose message is '<file>: <problem>' as it stands."""
    from dkd_tf.data.records import DatasetError
    types = [DatasetError]
    for module, name in (("dkd_tf.models.model_dir", "ModelDirError"),  # = RunStateError
                         ("dkd_tf.core.run_lock", "RunLockError"),
                         ("dkd_tf.core.output_paths", "OutputPathError"),
                         ("dkd_tf.data.video_frames", "StreamError"),
                         ("dkd_tf.benchmarks.measure", "BenchError"),
                         ("dkd_tf.serving.manifest", "ManifestError"),
                         ("dkd_tf.serving.verify", "VerificationError"),
                         ("dkd_tf.experiments.demo_export", "PCKMismatchError"),
                         ("dkd_tf.experiments.real_video_recipe", "RecipeError")):
        mod = sys.modules.get(module)  # only what the command imported can have been raised
        if mod is not None and hasattr(mod, name):
            types.append(getattr(mod, name))
    return tuple(types)


def describe(error: BaseException) -> str:
    """The one-line (plus indented details) message for `error`, without the 'error: ' prefix."""
    if isinstance(error, _known_types()):
        text = str(error)
    elif isinstance(error, OSError) and getattr(error, "filename", None):
        # open()/os errors: '[Errno 2] No such file or directory: x' -> 'x: No such file ...'
        text = (f"{error.filename}: {error.strerror}" if error.strerror and error.errno
                else str(error))
    elif isinstance(error, (FileNotFoundError, ValueError)):
        text = str(error)  # the project's messages start with the path they are about
    else:
        text = f"{type(error).__name__}: {error}"
        text += (f"\n  (unexpected error; run with --traceback or {TRACEBACK_ENV}=1 to see where "
                 "it happened)")
    text = text.strip() or type(error).__name__
    lines = text.splitlines()
    return "\n".join([lines[0]] + [l if l.startswith(" ") else "  " + l for l in lines[1:]])


def quiet_tf_logging(flag_values):
    """For the CLIs: TensorFlow's INFO chatter (SavedModel writing, converters) would bury the
    report, so absl logging drops to WARNING unless -v/--verbosity was given. (absl only: a
    command calls it before its input checks, which run before TensorFlow is imported.)"""
    from absl import logging
    if not flag_values["verbosity"].present:
        logging.set_verbosity(logging.WARNING)


def report(error: BaseException, stream=None) -> int:
    """Print `error: <message>` to stderr; returns the exit status."""
    print(f"error: {describe(error)}", file=stream or sys.stderr, flush=True)
    return EXIT_FAILURE


def guarded(main):
    """main(argv) -> int|None, with every exception (not KeyboardInterrupt, not SystemExit, not
    absl's UsageError, which prints the usage itself) turned into `error: ...` and status 1."""
    def wrapper(argv):
        try:
            return main(argv)
        except (app.UsageError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # noqa: BLE001 - the point: one line for every failure
            if traceback_wanted():
                raise
            return report(e)
    wrapper.__name__ = getattr(main, "__name__", "main")
    wrapper.__doc__ = getattr(main, "__doc__", None)
    return wrapper


def parse_flags(argv):
    """absl's flag parsing, a bad flag reported as one `error: flag --name=value: problem` line
    (absl prints 'FATAL Flags parsing error' and a hint), exit status 1."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        print(f"error: {e}\n  (--helpfull lists every flag)", file=sys.stderr, flush=True)
        sys.exit(EXIT_FAILURE)


def run(main, **kwargs):
    """absl.app.run(main) with the errors reported by `guarded` (a bad flag by parse_flags);
    exits with main's status."""
    kwargs.setdefault("flags_parser", parse_flags)
    app.run(guarded(main), **kwargs)
