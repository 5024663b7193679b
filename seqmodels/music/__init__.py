"""Music helpers for the Jazz assignment: chords and scales, a solo generator, the token
encoding, MIDI input/output, a small numpy synthesiser and a piano-roll plot.

Time is measured on a grid of eighth notes (4/4, eight positions per bar). Swing is a
matter of performance, so it is applied only when a solo is turned into MIDI.
"""
