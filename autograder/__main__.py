import os
import sys

from autograder import sandbox
from autograder.cli import main

code = main()
# Tearing down torch, matplotlib and music21 at interpreter exit takes half a second, longer than grading
# a notebook's functions; nothing of ours needs it. Our one exit handler runs first, and the output is flushed.
sandbox.close_servers()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
