"""The classroom: the interactive page, the room, the terminal game and the seats they share.

=================== ====================================================================
module              what it holds
=================== ====================================================================
``seats``           ``ClassroomModel`` (a scenario-built model) and ``HumanSeat``
``runner``          a page's run, stepped atomically; ``snapshot``: what views read
``charts``, ``ui``  browser-drawn charts (Vega-Lite) and the pieces page and room share
``words``           everything a student reads, in one place
``page``            the interactive page; ``page_cli``: ``stalemate-app``, its command line
                    checked and its port opened before Solara is imported
``room``            the room's rules: joining, seats, rounds, the timer; ``room_export``
                    its CSV exports
``room_app``        ``stalemate-room``: its command line, checked settings and server
``room_student``    a student's seat: a thin page and its websocket (not Solara)
``room_pages``      the room's Solara routes: ``room_teacher`` (the console),
                    ``room_projector``; ``room_views`` (what they share), ``room_styles``
``serve``           serving both: one-line refusals, the port opened before start-up
``headless``        the classroom in a headless browser (tests, benchmarks, screenshots)
``terminal``        play one state in the terminal (``stalemate-play``)
=================== ====================================================================
"""
