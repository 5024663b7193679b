"""The course autograder.

``python -m autograder grade NOTEBOOK`` builds a module from a learner's notebook, runs each
graded function in its own sandboxed process, and scores it against the reference solution
notebook. Verdicts are computed in this (trusted) process from plain arrays only.
"""
