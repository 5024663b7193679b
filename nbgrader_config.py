"""nbgrader configuration: solutions/ holds the sources, assignments/ the released student versions."""

c = get_config()  # noqa: F821  (injected by nbgrader)

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
# Generating student versions needs no gradebook: grades come from `python -m autograder`.
# (With a database nbgrader also shells out to `alembic`, which fails outside an activated venv.)
c.GenerateAssignment.no_database = True
c.SaveCells.enabled = False
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
