"""nbgrader configuration: solutions/ holds the sources, assignments/ the released student versions.

The course folder is the folder of this file, whatever the working directory, and the gradebook is nbgrader's
default, ``gradebook.db`` in it: ``generate_assignment`` records each assignment's grade cells there, and
``python -m autograder batch ... --nbgrader-db gradebook.db`` writes its scores into them (see
autograder/nbgrader_db.py). The exchange (``c.Exchange.root``) and ``c.CourseDirectory.course_id`` belong to
the deployment (a JupyterHub's /etc/jupyter/nbgrader_config.py), not to the course repository.
"""

import os
import sys

c = get_config()  # noqa: F821  (injected by nbgrader)

# nbgrader creates a gradebook by running the `alembic` command by name. It was installed beside the Python that
# runs nbgrader (the venv's bin/), which is put first on PATH, so `.venv/bin/nbgrader` works without an activated
# venv.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
