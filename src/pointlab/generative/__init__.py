"""Generative models on 2-D point sets (flow matching and diffusion on the population engine), and
how good their samples are (`quality`).

Not here: the classifier's engine (`pointlab.engine`), pictures (`pointlab.plots.generative`).
"""
