"""Interpretation of built models: ``explain`` (regulative patterns, weights), ``chromhmm`` (ChromHMM
validation), ``pattern_charts`` (the paper's Figures 3 and 4, the weights heatmap), ``charts``
(the evaluation chart)."""
