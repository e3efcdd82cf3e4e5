"""Backprop by hand: the autograder.

``backprop-grader grade PATH --out DIR`` (or ``python -m autograder grade ...``) grades
nbgrader submissions in a sandbox. The tree says which rules a file lives by::

    autograder/
      cli.py            the command line (trusted): grade (jobs, progress, stop and
                        resume, shards), merge, gradescope
      toolkit/          pasted into every exercise notebook: numpy only, nothing secret
        checks.py         check_close, check_gradient, check_all, diagnosis of mistakes
      sandbox/          where students' code runs
        inside/           the grader files the sandbox sees (with toolkit/checks.py):
                          stdlib and numpy only
          worker.py         serves load/call requests inside the sandbox
          wire.py           values across the boundary (JSON and raw arrays, no pickle)
          cells.py          which code of a notebook runs (definitions only)
          confine.py        user mode: the worker loads the seccomp filter itself
        process.py        one worker under bubblewrap (or user mode), prlimit and seccomp;
                          Limits; choose_sandbox
        session.py        a notebook kept loaded in a worker, restarted when needed
        seccomp.py        the process filter (no fork, no new processes)
        local.py          the same calls in-process, for pytest runs of trusted notebooks
      grading/          the trusted grader: decides scores, never runs student code
        reference.py      reference solutions, loaded from solutions/
        testkit.py        points and seeded inputs for hidden tests
        proxy.py          the student's functions as a hidden test calls them
        runner.py         grade one notebook
        results.py        results.json (Gradescope's schema) and grades.csv
      hidden/           the hidden tests, one pytest file per chapter (secret)
        cases.py          input generators shared with the project's own tests
      course/           tools for instructors and authors
        release.py        exercises/ from solutions/ with nbgrader
        samples.py        sample submissions to try the grader on
        submissions.py    finding submissions in nbgrader's layout; bad input by status
        late.py           due dates and late penalties from timestamp.txt
        gradebook.py      scores into nbgrader's gradebook (check cells as grade cells)
        feedback.py       a feedback page per submission (HTML, nbgrader's layout)
        gradescope.py     the Gradescope zip and its runner (gradescope_files/: setup.sh,
                          run_autograder)
"""
