"""The room's styles: one stylesheet for the teacher's console, the projector and the seats.

The page's own styles (:data:`sim.classroom.ui.CSS`: 14 px text, nothing under 12 px,
compact cards) come first; these add the room's pieces: the join code, the seats,
the private-information panel, the countdown and the table of a round's moves.
"""

from __future__ import annotations

ROOM_CSS = """
.sm-room { max-width: 1366px; margin: 0 auto; padding: 8px 14px; }
.sm-code { font-size: 44px; font-weight: 800; letter-spacing: .12em; font-family: monospace; color: #1d3557; }
.sm-code-small { font-size: 22px; font-weight: 800; letter-spacing: .1em; font-family: monospace; }
.sm-url { font-size: 20px; font-family: monospace; }
.sm-seat-row { display: flex; flex-wrap: wrap; gap: 10px; }
.sm-seat { border: 1px solid #c5ced9; border-radius: 8px; padding: 8px 10px; min-width: 200px; flex: 1; background: white; }
.sm-seat h3 { font-size: 18px; margin: 0 0 2px 0; }
.sm-moved { color: #1b7f3b; font-weight: 700; }
.sm-waiting { color: #8a5300; font-weight: 700; }
.sm-private { border: 2px solid #6a4c93; border-radius: 8px; padding: 8px 10px; background: #f6f2fb; }
.sm-private dt { font-weight: 700; margin-top: 4px; }
.sm-private dd { margin: 0 0 2px 0; }
.sm-countdown { font-size: 22px; font-weight: 700; color: #b00020; }
.sm-moves-table { border-collapse: collapse; width: 100%; font-size: 15px; }
.sm-why { white-space: pre-wrap; overflow-wrap: anywhere; }
.sm-confirm { border: 2px solid #e9a03b; border-radius: 8px; padding: 8px 10px; margin-top: 8px; background: #fff8e8; }
.sm-exports a { font-size: 15px; }
.sm-moves-table th, .sm-moves-table td { border-bottom: 1px solid #dde3ea; padding: 4px 6px; text-align: left; vertical-align: top; }
"""
