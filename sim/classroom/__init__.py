"""The classroom: the interactive page, the terminal game and the seats they share.

=========== ============================================================
module      what it holds
=========== ============================================================
``seats``   ``ClassroomModel`` (a scenario-built model) and ``HumanSeat``
``page``    the SolaraViz page (``stalemate-app``)
``terminal`` play one state in the terminal (``stalemate-play``)
=========== ============================================================
"""
