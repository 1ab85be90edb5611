"""``formcheck batch``: many recordings, one report folder each and a summary table.

- ``inputs``: files, folders and globs -> the recordings and their output folder names.
- ``state``: what an earlier run finished (resuming), and ``summary.csv``.
- ``local``: a process pool on this machine (the pose model loaded once per process).
- ``queued``: the recordings handed to Celery workers through the job queue.
- ``run``: the command: what is left to do, the progress bar, the summary.

Each recording's outputs are the files ``formcheck analyze`` writes, with the same content,
written into a temporary folder and renamed into place when complete: an output folder
that exists is whole.
"""
