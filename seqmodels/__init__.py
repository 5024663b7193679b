"""seqmodels: the course library shared by the chapters and the assignments.

Submodules are imported on demand (``from seqmodels import activations``) so that a
chapter about numpy never pays for importing torch or music21.

- activations: sigmoid and softmax (over axis 0, classes on rows)
- gradient_check: numerical gradients for checking backward passes
- plotting: diagrams of unrolled, deep and bidirectional RNNs, and the RNN types
- text, corpus: tokenisation and vocabularies; a generated English-like corpus
- names, char_rnn: the dinosaur-name data and the character-level RNN's forward/backward helpers
- gru, toy_tasks, tagging: a numpy GRU cell; synthetic tasks for comparing cells and directions
- music: jazz-style corpus generation, tokens, MIDI, synthesis and piano rolls
"""

__all__ = ["activations", "char_rnn", "corpus", "gradient_check", "gru", "music", "names", "plotting",
           "tagging", "text", "toy_tasks"]
