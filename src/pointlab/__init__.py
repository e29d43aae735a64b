"""pointlab: a hands-on deep-learning lab on 2-D point classification."""

__version__ = "0.1.0"
