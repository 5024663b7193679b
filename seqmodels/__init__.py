"""seqmodels: the course library shared by the chapters and the assignments.

Submodules are imported on demand (``from seqmodels import activations``) so that a
chapter about numpy never pays for importing torch or music21.
"""

__all__ = ["activations"]
