"""Test order for `make test`'s two workers (pytest-xdist, --dist loadscope).

A test class runs whole on one worker, so the suite ends when the worker that drew the last big
class finishes it. The modules holding the longest classes (minutes of tracing and training on
2 cores, measured with `pytest --durations`) run first, the many short ones fill in after them:
longest-first scheduling, so the two workers end close together. Only the order changes; a
module missing from the list keeps its place among the rest.
"""

LONGEST_FIRST = ("test_training.py", "test_export.py", "test_ablations.py", "test_dkd.py",
                 "test_bench.py", "test_train_formats.py", "test_stream.py", "test_presets.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)  # stable: the order within a module and among the rest is kept
