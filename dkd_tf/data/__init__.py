"""Data set readers, writers and the synthetic video generator; all produce VideoRecord."""
