"""Reports: summaries with confidence intervals, a run in words, figures, and safe file writing.

=========== ============================================================
module      what it holds
=========== ============================================================
``summary`` outcome shares with Wilson intervals, the CLI's summary block
``narrate`` a run told round by round in plain words
``plots``   fan charts, outcome maps, action shares (matplotlib)
``io``      atomic writes of Parquet, text and figures
=========== ============================================================
"""
