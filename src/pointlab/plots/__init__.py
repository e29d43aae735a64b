"""Pictures; each function takes arrays (or a Dataset) and writes a PNG; matplotlib Agg backend.

Figures are built with `matplotlib.figure.Figure` and drawn by the Agg canvas, never through
pyplot's global state, so they work headless and in threads. Only a function asked to open a window
uses pyplot. Computing what to draw belongs elsewhere; these modules only draw.
"""
